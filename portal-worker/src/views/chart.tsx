import type { Child } from 'hono/jsx';

/**
 * Server-rendered SVG charts. CSP forbids style attributes and scripts, so colours come from
 * classes (`series s0`…`s7`, rules in style.ts) and there is no interactivity: every chart has
 * a text alternative (<title>/<desc>) and the numbers in a table below it.
 */

export interface ChartSeries {
  key: string;
  label: string;
  /** One value per entry of `times`; null is a gap (no data), drawn as a break in the line. */
  values: readonly (number | null)[];
}

export interface LineChartLabels {
  /** Summary of the <details> holding the data table. */
  table: string;
  /** Header of the table's time column. */
  time: string;
  /** A gap in the table. */
  missing: string;
  /** Shown instead of the chart when there is no series. */
  empty: string;
  /** The legend's note after a series' label, e.g. "max 12". */
  peak: (value: number) => string;
}

export interface LineChartProps {
  id: string;
  title: string;
  desc: string;
  times: readonly number[];
  series: readonly ChartSeries[];
  /** Time labels on the x axis sit on multiples of this (UTC-aligned). */
  xTickEvery: number;
  formatTick: (ms: number) => string;
  formatRow: (ms: number) => string;
  labels: LineChartLabels;
}

const W = 720;
const H = 260;
const PAD = { left: 44, right: 14, top: 12, bottom: 28 };
export const SERIES_CLASSES = 8;

/** A step of 1, 2 or 5 × 10^k (at least 1: counts are whole) giving about four value ticks. */
export function niceStep(max: number): number {
  const raw = Math.max(max, 1) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  return Math.max(1, step);
}

const r1 = (n: number) => Math.round(n * 10) / 10;

/** Indexes of values with no value on either side. */
export function isolated(values: readonly (number | null)[]): number[] {
  const out: number[] = [];
  values.forEach((v, j) => {
    if (v !== null && (values[j - 1] ?? null) === null && (values[j + 1] ?? null) === null) out.push(j);
  });
  return out;
}

export function seriesPeak(s: ChartSeries): number | null {
  let peak: number | null = null;
  for (const v of s.values) if (v !== null && (peak === null || v > peak)) peak = v;
  return peak;
}

/** The path of one series: a new subpath after every gap; a lone point is a zero-length segment (a dot with round caps). */
function pathData(values: readonly (number | null)[], x: (i: number) => number, y: (v: number) => number): string {
  const parts: string[] = [];
  let run = 0;
  values.forEach((v, i) => {
    if (v === null) {
      if (run === 1) parts.push('l0 0');
      run = 0;
      return;
    }
    parts.push(`${run === 0 ? 'M' : 'L'}${r1(x(i))} ${r1(y(v))}`);
    run++;
  });
  if (run === 1) parts.push('l0 0');
  return parts.join(' ');
}

export function LineChart(p: LineChartProps) {
  if (!p.series.length || !p.times.length) return <p class="muted">{p.labels.empty}</p>;
  const t0 = p.times[0] as number;
  const t1 = Math.max(p.times[p.times.length - 1] as number, t0 + 1);
  const peak = Math.max(0, ...p.series.map((s) => seriesPeak(s) ?? 0));
  const step = niceStep(peak);
  const yMax = Math.max(step, Math.ceil(peak / step) * step);
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const xOf = (ms: number) => PAD.left + ((ms - t0) / (t1 - t0)) * plotW;
  const y = (v: number) => PAD.top + plotH - (v / yMax) * plotH;
  const valueTicks: number[] = [];
  for (let v = 0; v <= yMax; v += step) valueTicks.push(v);
  const timeTicks: number[] = [];
  for (let ms = Math.ceil(t0 / p.xTickEvery) * p.xTickEvery; ms <= t1; ms += p.xTickEvery) timeTicks.push(ms);
  const titleId = `${p.id}-title`;
  const descId = `${p.id}-desc`;
  return (
    <div class="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${titleId} ${descId}`} preserveAspectRatio="xMinYMid meet">
        <title id={titleId}>{p.title}</title>
        <desc id={descId}>{p.desc}</desc>
        {valueTicks.map((v) => (
          <g>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={r1(y(v))} y2={r1(y(v))} />
            <text x={PAD.left - 6} y={r1(y(v)) + 4} text-anchor="end">
              {String(v)}
            </text>
          </g>
        ))}
        {timeTicks.map((ms) => (
          <g>
            <line class="axis" x1={r1(xOf(ms))} x2={r1(xOf(ms))} y1={H - PAD.bottom} y2={H - PAD.bottom + 4} />
            <text x={r1(xOf(ms))} y={H - PAD.bottom + 16} text-anchor="middle">
              {p.formatTick(ms)}
            </text>
          </g>
        ))}
        <line class="axis" x1={PAD.left} x2={W - PAD.right} y1={H - PAD.bottom} y2={H - PAD.bottom} />
        <line class="axis" x1={PAD.left} x2={PAD.left} y1={PAD.top} y2={H - PAD.bottom} />
        {p.series.map((s, i) => (
          <g data-series={s.key}>
            <path class={`series s${i % SERIES_CLASSES}`} data-series={s.key} d={pathData(s.values, (j) => xOf(p.times[j] as number), y)}>
              <title>{s.label}</title>
            </path>
            {/* A point between two gaps draws no line: a dot shows it. */}
            {isolated(s.values).map((j) => (
              <circle class={`point series s${i % SERIES_CLASSES}`} cx={r1(xOf(p.times[j] as number))} cy={r1(y(s.values[j] as number))} r="3" />
            ))}
          </g>
        ))}
      </svg>
      <ul class="legend">
        {p.series.map((s, i) => (
          <li data-series={s.key}>
            <span class={`swatch series s${i % SERIES_CLASSES}`} aria-hidden="true"></span>
            {s.label} <span class="muted">({p.labels.peak(seriesPeak(s) ?? 0)})</span>
          </li>
        ))}
      </ul>
      <details>
        <summary>{p.labels.table}</summary>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{p.labels.time}</th>
                {p.series.map((s) => (
                  <th scope="col">{s.label}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {p.times.map((ms, i) =>
                p.series.some((s) => s.values[i] !== null) ? (
                  <tr>
                    <th scope="row">{p.formatRow(ms)}</th>
                    {p.series.map((s) => (
                      <td class="num">{s.values[i] === null || s.values[i] === undefined ? p.labels.missing : String(s.values[i])}</td>
                    ))}
                  </tr>
                ) : null,
              )}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
}

export interface BarRow {
  key: string;
  label: Child;
  value: number;
}

/** A table with a bar per row: the numbers stay readable text, the bars are decoration. */
export function BarTable(p: { caption: string; labelHeader: string; valueHeader: string; barHeader: string; rows: readonly BarRow[] }) {
  const max = Math.max(1, ...p.rows.map((r) => r.value));
  return (
    <div class="table-wrap">
      <table class="bars">
        <caption class="sr-only">{p.caption}</caption>
        <thead>
          <tr>
            <th scope="col">{p.labelHeader}</th>
            <th scope="col" class="num">
              {p.valueHeader}
            </th>
            <th scope="col" class="bar-col">
              <span class="sr-only">{p.barHeader}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {p.rows.map((r) => (
            <tr data-key={r.key}>
              <th scope="row">{r.label}</th>
              <td class="num">{String(r.value)}</td>
              <td class="bar-col">
                <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
                  <rect class="bar" x="0" y="0" height="10" width={r1((r.value / max) * 100)} />
                </svg>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
