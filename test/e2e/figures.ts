/**
 * The e2e tier's measured times. Each is printed when taken (the run's log is the first place
 * to look) and appended to `<run dir>/figures.jsonl`; the global teardown prints them as one
 * table and, with E2E_RECORD=1, appends that table to bench/RESULTS.md. Times are measured
 * and reported, never asserted, except the bounds the issue states (revocation within 2 s).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';

export interface Figure {
  scenario: string;
  what: string;
  ms: number;
  note?: string;
  /** The machine's 1-minute load average when taken: this machine is shared, and times scale with it. */
  load: number;
}

const file = () => (process.env.EDGEPORT_E2E_DIR ? join(process.env.EDGEPORT_E2E_DIR, 'figures.jsonl') : null);

export function figure(scenario: string, what: string, ms: number, note?: string): number {
  const f: Figure = { scenario, what, ms: Math.round(ms), ...(note ? { note } : {}), load: Math.round((loadavg()[0] ?? 0) * 10) / 10 };
  console.log(`⏱  [${scenario}] ${what}: ${f.ms} ms${note ? ` (${note})` : ''} [load ${f.load}]`);
  const path = file();
  if (path) appendFileSync(path, `${JSON.stringify(f)}\n`);
  return ms;
}

export function readFigures(dir: string): Figure[] {
  const path = join(dir, 'figures.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Figure);
}

export function figuresTable(figures: readonly Figure[]): string[] {
  return ['| scenario | measured | ms | notes | load |', '|---|---|---|---|---|', ...figures.map((f) => `| ${f.scenario} | ${f.what} | ${f.ms} | ${f.note ?? ''} | ${f.load} |`)];
}
