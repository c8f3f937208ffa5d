// `npx tsx bench/pages.ts [configs]`: the admin console's live views and pages, as the browser asks
// for them (the live regions poll their fragment every 2 s per open tab), in workerd through
// Miniflare's API with the production bundle, on D1 and on MariaDB through the PlanetScale driver.
// State (bench/support/pages-state.ts): N WireGuard configs over 2 profiles × 2 nodes, both nodes
// connected with a sessions report, 3N connection_log rows, 7 days of per-minute session_stats.
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { makeSecrets } from '../scripts/secrets.ts';
import { createDatabase, dropDatabase, startPsdbServer } from '../test/psdb/server.ts';
import { buildBundle } from './support/bundle.ts';
import { arrange, type Arranged } from './support/pages-state.ts';
import { portalMiniflare, type Session } from './support/portal.ts';
import { percentile, record } from './support/report.ts';

const CONFIGS = Number(process.argv[2] ?? 2000);
/** Each measurement stops at this many requests or after this long, whichever comes first. */
const MAX_REQUESTS = { 1: 50, 8: 200 } as const;
const MAX_MS = 4000;
const WARMUP = 3;

interface Page {
  name: string;
  path: string;
  who: 'admin' | 'user';
  fragment?: boolean;
}
const PAGES: Page[] = [
  { name: '/admin/connections (fragment)', path: '/admin/connections', who: 'admin', fragment: true },
  { name: '/admin/nodes (fragment)', path: '/admin/nodes', who: 'admin', fragment: true },
  { name: '/admin/stats?period=24h', path: '/admin/stats?period=24h', who: 'admin' },
  { name: '/admin/stats?period=7d', path: '/admin/stats?period=7d', who: 'admin' },
  { name: '/admin/stats?period=30d', path: '/admin/stats?period=30d', who: 'admin' },
  { name: '/ (user home)', path: '/', who: 'user' },
];

interface Run {
  n: number;
  rps: number;
  p50: number;
  p99: number;
}
interface Row {
  storage: string;
  page: string;
  bytes: number;
  seq: Run;
  c8: Run;
  queries: number | null;
}

async function once(s: Session, page: Page): Promise<number> {
  const r = await s.fetch(page.path, page.fragment ? { headers: { 'x-fragment': '1' } } : {});
  const body = await r.arrayBuffer();
  if (r.status !== 200) throw new Error(`${page.path}: ${r.status} ${new TextDecoder().decode(body).slice(0, 300)}`);
  return body.byteLength;
}

async function load(s: Session, page: Page, concurrency: 1 | 8): Promise<Run> {
  const latencies: number[] = [];
  let issued = 0;
  const started = performance.now();
  const more = () => issued < MAX_REQUESTS[concurrency] && (issued < 2 * concurrency || performance.now() - started < MAX_MS);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (more()) {
        issued++;
        const t0 = performance.now();
        await once(s, page);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { n: latencies.length, rps: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

async function measure(
  storage: string,
  extra: Record<string, string>,
  bundle: string,
  secrets: Record<string, string>,
  counter?: { n: number },
  mysqlDatabase?: string,
): Promise<{ rows: Row[]; state: Arranged['rows']; arrangeSeconds: number }> {
  const mf = portalMiniflare(bundle, { ...secrets, ...extra });
  try {
    const t0 = performance.now();
    const state = await arrange(mf, CONFIGS, mysqlDatabase);
    const arrangeSeconds = (performance.now() - t0) / 1000;
    console.log(`${storage}: state arranged in ${arrangeSeconds.toFixed(1)} s`, state.rows);
    const rows: Row[] = [];
    for (const page of PAGES) {
      const s = page.who === 'admin' ? state.admin : state.user;
      let bytes = 0;
      for (let i = 0; i < WARMUP; i++) bytes = await once(s, page);
      if (counter) counter.n = 0;
      const seq = await load(s, page, 1);
      const queries = counter ? counter.n / seq.n : null;
      const c8 = await load(s, page, 8);
      rows.push({ storage, page: page.name, bytes, seq, c8, queries });
      console.log(`  ${page.name}: ${(bytes / 1024).toFixed(0)} KiB, seq p50 ${seq.p50.toFixed(1)} ms (${seq.rps.toFixed(1)}/s), c8 p50 ${c8.p50.toFixed(1)} ms (${c8.rps.toFixed(1)}/s)`);
    }
    state.close();
    return { rows, state: state.rows, arrangeSeconds };
  } finally {
    await mf.dispose();
  }
}

async function measureMysql(bundle: string, secrets: Record<string, string>) {
  const database = `ep_test_bench_${randomBytes(4).toString('hex')}`;
  await createDatabase(database);
  const counter = { n: 0 };
  const psdb = await startPsdbServer({ database, onQuery: () => counter.n++ });
  try {
    return await measure('MariaDB', { DB_DRIVER: 'planetscale', DATABASE_URL: psdb.url, DB_NAME: database }, bundle, secrets, counter, database);
  } finally {
    await psdb.close();
    await dropDatabase(database);
  }
}

const bundle = buildBundle();
const secrets = await makeSecrets();
const started = performance.now();
let d1: Awaited<ReturnType<typeof measure>>;
let my: Awaited<ReturnType<typeof measure>>;
try {
  d1 = await measure('D1', {}, bundle, secrets);
  my = await measureMysql(bundle, secrets);
} finally {
  rmSync(bundle, { recursive: true, force: true });
}

const ms = (v: number) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const kib = (b: number) => (b >= 10_240 ? `${(b / 1024).toFixed(0)} KiB` : `${(b / 1024).toFixed(1)} KiB`);
const s = d1.state;
const lines = [
  `Admin console pages, one Miniflare isolate, production bundle; ${s.configs} WireGuard configs (${s.users} users) over 2 profiles × 2 nodes, both nodes connected with a sessions report (${s.reportPeers} peers, half in session), ${s.connectionLog} connection_log rows (30 days), ${s.sessionStats} session_stats rows (7 days × 1440 min × 4). Signed in as an admin (as a user for /). ${WARMUP} warm-up requests, then sequential and 8 concurrent, each up to ${MAX_REQUESTS[1]}/${MAX_REQUESTS[8]} requests or ${MAX_MS / 1000} s (so p99 is the slowest of a few dozen). Queries/request are counted at the PlanetScale-protocol server. State arranged in ${d1.arrangeSeconds.toFixed(0)} s (D1) and ${my.arrangeSeconds.toFixed(0)} s (MariaDB).`,
  '',
  '| page | storage | size | seq p50 ms | seq p99 ms | seq req/s | c8 p50 ms | c8 p99 ms | c8 req/s | queries/req |',
  '|---|---|---|---|---|---|---|---|---|---|',
];
for (let i = 0; i < PAGES.length; i++) {
  for (const r of [d1.rows[i]!, my.rows[i]!]) {
    lines.push(
      `| ${r.page} | ${r.storage} | ${kib(r.bytes)} | ${ms(r.seq.p50)} | ${ms(r.seq.p99)} | ${r.seq.rps.toFixed(1)} | ${ms(r.c8.p50)} | ${ms(r.c8.p99)} | ${r.c8.rps.toFixed(1)} | ${r.queries === null ? 'n/a' : r.queries.toFixed(1)} |`,
    );
  }
}
const tabs = (r: Row) => Math.floor(Math.max(r.seq.rps, r.c8.rps) * 2);
const [conn, nodes] = [0, 1].map((i) => [d1.rows[i]!, my.rows[i]!] as const) as [readonly [Row, Row], readonly [Row, Row]];
const slowStats = my.rows.slice(2, 5).filter((r, i) => r.seq.p50 > 3 * d1.rows[2 + i]!.seq.p50);
lines.push(
  '',
  `What it means: every open /admin/connections tab asks for its fragment every 2 s, so one isolate serves about ${tabs(conn[0])} such tabs on D1 and ${tabs(conn[1])} on MariaDB with ${s.configs} configs (8 concurrent requests are hardly faster than sequential: the isolate's CPU is the limit), each poll moving ${kib(conn[0].bytes)}: the fragment has a row per placed config (~${Math.round(conn[0].bytes / s.configs)} B each), all read and rendered on every poll (listConfigs in store/live-sessions.ts has no limit), so tabs × configs is what to watch. /admin/nodes is cheap (~${tabs(nodes[0])} / ${tabs(nodes[1])} tabs).` +
    (slowStats.length
      ? ` ${slowStats.map((r) => `${r.page.replace('/admin/stats?', '')} ${ms(r.seq.p50)} ms`).join(', ')} on MariaDB (p50 sequential; ${ms(Math.max(...slowStats.map((r) => r.c8.p50)))} ms at 8 concurrent) against ${ms(d1.rows[3]!.seq.p50)}-${ms(d1.rows[4]!.seq.p50)} ms on D1: that is sessionPeaks (store/stats.ts), run twice per page, grouping every session_stats row of the period by (profile or node, minute) in a derived table.`
      : '') +
    ` Whole run ${((performance.now() - started) / 1000).toFixed(0)} s.`,
);
console.log(lines.join('\n'));
record('admin pages', lines);
