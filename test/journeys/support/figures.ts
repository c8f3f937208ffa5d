/**
 * A journey's milestones (ms since its fresh copy was made) are printed after the journey and,
 * with JOURNEY_RECORD=1, appended to bench/RESULTS.md: timings belong in the results, not in
 * assertions (this machine is shared and noisy).
 */
import { record } from '../../../bench/support/report.ts';

export function recordJourney(name: string, times: Record<string, number>): void {
  const rows = Object.entries(times).map(([what, ms]) => `| ${what} | ${(ms / 1000).toFixed(1)} |`);
  if (!rows.length) return;
  const table = ['| milestone | seconds since the fresh copy |', '|---|---|', ...rows];
  console.log(`journey "${name}":\n${table.join('\n')}`);
  if (process.env.JOURNEY_RECORD === '1') record(`journey: ${name}`, [`Milestones of one run of the journey, \`npm test\`'s journey tier (\`npm run test:journeys\`).`, '', ...table]);
}
