import type { AppUsage, KeyedSeries, Timeline } from '../domain/stats-period.ts';

export type Cell = string | number;

/**
 * One CSV field (RFC 4180). A text cell starting with = + - @ (or tab / carriage return) is
 * prefixed with ' so a spreadsheet shows it instead of running it as a formula (OWASP CSV
 * injection); names of registered apps and ids are admin- or user-chosen text.
 */
export function csvCell(value: Cell): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Header and rows, CRLF line ends as RFC 4180 §2 has them. */
export function toCsv(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  return [header, ...rows].map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** Only intervals with a report: an absent row is a gap, as on the chart. */
export function sessionsCsv(series: readonly KeyedSeries[], tl: Timeline): string {
  const rows: Cell[][] = [];
  for (const s of series) s.values.forEach((v, i) => v !== null && rows.push([iso(tl.times[i] as number), s.key, v]));
  rows.sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])));
  return toCsv(['interval_start_utc', 'profile_id', 'max_concurrent_sessions'], rows);
}

export function usersCsv(days: readonly { day: number; users: number }[]): string {
  return toCsv(
    ['day_utc', 'unique_users'],
    days.map((d) => [iso(d.day).slice(0, 10), d.users]),
  );
}

export function appsCsv(apps: readonly AppUsage[]): string {
  return toCsv(
    ['client_id', 'client_name', 'active_authorizations'],
    apps.map((a) => [a.clientId, a.name, a.count]),
  );
}
