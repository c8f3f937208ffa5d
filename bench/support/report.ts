import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, hostname } from 'node:os';

const RESULTS = new URL('../RESULTS.md', import.meta.url).pathname;

export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export function machine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${hostname()}, ${cpus().length} × ${cpu}, Node ${process.version}`;
}

/** Appends one dated section to bench/RESULTS.md, so figures accumulate run after run. */
export function record(title: string, lines: string[]): void {
  if (!existsSync(RESULTS))
    writeFileSync(RESULTS, '# Benchmark results\n\nEach section is one run: date, machine, then the figures. Compare within a run (ratios); this machine is shared and noisy.\n');
  appendFileSync(RESULTS, `\n## ${title} — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC\n\nMachine: ${machine()}\n\n${lines.join('\n')}\n`);
}
