import type { SessionPeak, StatsFilter } from '../store/stats.ts';

// The statistics' periods, their time buckets and the shaping of the stored peaks into series.

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface PeriodSpec {
  span: number;
  /** One chart point per bucket: 100-300 points whatever the period. */
  bucket: number;
  /** Distance between time labels on a chart's axis. */
  tick: number;
}

export const PERIODS = {
  '24h': { span: DAY, bucket: 5 * MINUTE, tick: 4 * HOUR },
  '7d': { span: 7 * DAY, bucket: HOUR, tick: DAY },
  '30d': { span: 30 * DAY, bucket: 6 * HOUR, tick: 5 * DAY },
} as const satisfies Record<string, PeriodSpec>;

export type Period = keyof typeof PERIODS;
export const PERIOD_KEYS = Object.keys(PERIODS) as Period[];

/** Absent or empty means the default (24 h); anything else unknown is null (a 400). */
export function parsePeriod(value: string | undefined): Period | null {
  if (value === undefined || value === '') return '24h';
  return (PERIOD_KEYS as string[]).includes(value) ? (value as Period) : null;
}

export const CSV_KINDS = ['sessions', 'users', 'apps'] as const;
export type CsvKind = (typeof CSV_KINDS)[number];

export function parseCsvKind(value: string | undefined): CsvKind | null {
  return (CSV_KINDS as readonly string[]).includes(value ?? '') ? (value as CsvKind) : null;
}

/** An optional filter id: empty means "all"; null when longer than any id can be (255). */
export function optionalId(value: string | undefined): string | undefined | null {
  const v = (value ?? '').trim();
  if (!v) return undefined;
  return v.length > 255 ? null : v;
}

export interface StatsQuery extends StatsFilter {
  period: Period;
}

export interface Timeline {
  from: number;
  to: number;
  bucket: number;
  /** The start of every bucket from the period's start to now. */
  times: number[];
}

export function timeline(period: Period, now: number): Timeline {
  const { span, bucket } = PERIODS[period];
  const from = Math.floor((now - span) / bucket) * bucket;
  const times: number[] = [];
  for (let b = from; b <= now; b += bucket) times.push(b);
  return { from, to: now, bucket, times };
}

export interface KeyedSeries {
  key: string;
  values: (number | null)[];
}

/** One value per bucket of the timeline for each key; a bucket without a report stays null. */
export function alignPeaks(peaks: readonly SessionPeak[], tl: Timeline): KeyedSeries[] {
  const byKey = new Map<string, (number | null)[]>();
  for (const p of peaks) {
    let values = byKey.get(p.key);
    if (!values) byKey.set(p.key, (values = tl.times.map(() => null)));
    const i = Math.round((p.bucket - tl.from) / tl.bucket);
    if (i >= 0 && i < values.length) values[i] = p.peak;
  }
  return [...byKey].map(([key, values]) => ({ key, values }));
}

export interface AppUsage {
  clientId: string;
  name: string;
  count: number;
}

export const TOP_APPS = 8;

/** The most used apps, and the rest added up (upstream's pie shows the top 8 too). */
export function topApps(apps: readonly AppUsage[]): { top: AppUsage[]; other: { apps: number; count: number } | null } {
  const rest = apps.slice(TOP_APPS);
  return { top: apps.slice(0, TOP_APPS), other: rest.length ? { apps: rest.length, count: rest.reduce((n, a) => n + a.count, 0) } : null };
}
