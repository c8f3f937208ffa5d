/**
 * Once per e2e run: checks the machine (root, the VPN tools, ping), gives the run a tag and a
 * folder, sweeps what a killed earlier run left behind, and builds the agent bundle once. The
 * teardown is the last safety net: it kills any process this run started that is still alive
 * (found by the run tag in its environment, never by name), deletes the run's namespaces and
 * WireGuard sockets, and prints (with E2E_RECORD=1 also records) the measured times.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { record } from '../../bench/support/report.ts';
import { mysqlOptions } from '../psdb/databases.ts';
import { buildAgent } from '../support/agent-process.ts';
import { IF_PREFIX, NETNS_PREFIX, listNamespaces, sweepNamespace } from '../support/netns-topology.ts';
import { figuresTable, readFigures } from './figures.ts';

const TOOLS = { wg: 'wireguard-tools', 'wireguard-go': 'wireguard-go', openvpn: 'openvpn', ip: 'iproute2', ping: 'iputils-ping' };
const runDirOf = (tag: string) => join(tmpdir(), `edgeport-e2e-${tag}`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function checkMachine(): void {
  if (process.getuid?.() !== 0) throw new Error('the e2e tier needs root (network namespaces, tun devices)');
  const missing = Object.entries(TOOLS).filter(([tool]) => {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw new Error(`missing ${missing.map(([t]) => t).join(', ')}: apt-get install -y --no-install-recommends ${missing.map(([, p]) => p).join(' ')}`);
  if (!existsSync('/dev/net/tun')) throw new Error('no /dev/net/tun');
}

/**
 * What runs whose vitest process is gone left behind (a SIGKILLed run never reaches its
 * teardown): their processes, namespaces, WireGuard sockets and folder. A run kept with
 * E2E_KEEP=1 ended cleanly and left no namespace, so its folder stays.
 */
async function sweepStale(): Promise<void> {
  const stale = new Set<string>();
  for (const ns of listNamespaces()) {
    const tag = ns.startsWith(NETNS_PREFIX) ? ns.slice(NETNS_PREFIX.length, NETNS_PREFIX.length + 4) : null;
    if (!tag) continue;
    let owner = 0;
    try {
      owner = Number(readFileSync(join(runDirOf(tag), 'owner.pid'), 'utf8').trim()) || 0;
    } catch {}
    if (owner && alive(owner)) continue;
    stale.add(tag);
  }
  for (const tag of stale) {
    console.log(`e2e: removing what run ${tag} left behind`);
    removeRun(tag, false);
    await dropDatabasesOf(tag);
  }
}

/** The MariaDB databases a run made (World names them `ep_test_e2e_<tag>_…`). */
async function dropDatabasesOf(tag: string): Promise<void> {
  const conn = await mysql.createConnection(mysqlOptions());
  try {
    const [rows] = await conn.query(`SHOW DATABASES LIKE 'ep\\_test\\_e2e\\_${tag}\\_%'`);
    for (const row of rows as Record<string, string>[]) {
      const name = Object.values(row)[0] as string;
      if (/^ep_test_e2e_[a-z0-9]{4}_[a-z0-9_]+$/.test(name)) await conn.query(`DROP DATABASE \`${name}\``);
    }
  } finally {
    await conn.end();
  }
}

/** Kills the run's processes, deletes its namespaces and WireGuard sockets, and (unless kept) its folder. */
function removeRun(tag: string, keepDir: boolean): void {
  for (const pid of processesOfRun(tag)) {
    let cmd = '';
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').slice(0, 120);
    } catch {}
    console.warn(`e2e: killing leftover process ${pid} (${cmd})`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  for (const ns of listNamespaces()) if (ns.startsWith(`${NETNS_PREFIX}${tag}-`)) sweepNamespace(ns);
  for (const f of existsSync('/var/run/wireguard') ? readdirSync('/var/run/wireguard') : []) {
    if (f.startsWith(`${IF_PREFIX}${tag}`)) rmSync(join('/var/run/wireguard', f), { force: true });
  }
  if (!keepDir) rmSync(runDirOf(tag), { recursive: true, force: true });
}

/**
 * Pids whose environment carries the run's tag: everything the run spawned. Not this process
 * and not its direct children: those are vitest's own workers, which vitest ends itself.
 */
function processesOfRun(tag: string): number[] {
  const marker = `EDGEPORT_E2E_RUN=${tag}\0`;
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!pid || pid === process.pid) continue;
    try {
      if (!`${readFileSync(`/proc/${pid}/environ`, 'latin1')}\0`.includes(marker)) continue;
      // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so read after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) found.push(pid);
    } catch {}
  }
  return found;
}

export default async function setup() {
  checkMachine();
  // What scripts/lib.mjs' wranglerEnv sets, so `vitest run --config test/e2e/vitest.config.ts` works alone too.
  process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';
  process.env.WRANGLER_SEND_METRICS ??= 'false';
  try {
    await sweepStale();
  } catch (err) {
    console.warn(`e2e: stale sweep failed: ${(err as Error).message}`);
  }
  const tag = randomBytes(3).toString('hex').slice(0, 4);
  const dir = runDirOf(tag);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'owner.pid'), String(process.pid));
  // Inherited by the test workers and by every process they start: the teardown's marker.
  process.env.EDGEPORT_E2E_RUN = tag;
  process.env.EDGEPORT_E2E_DIR = dir;
  process.env.EDGEPORT_E2E_AGENT = buildAgent(join(dir, 'edgeport-agent.mjs'));
  const started = Date.now();

  return async () => {
    removeRun(tag, true);
    // The worlds drop their databases in afterAll; this catches a world that never got there.
    await dropDatabasesOf(tag).catch((err: unknown) => console.warn(`e2e: dropping databases failed: ${(err as Error).message}`));
    const figures = readFigures(dir);
    if (figures.length) {
      const lines = figuresTable(figures);
      console.log(`\nEnd-to-end figures (run ${tag}, ${Math.round((Date.now() - started) / 1000)} s):\n${lines.join('\n')}\n`);
      if (process.env.E2E_RECORD === '1') {
        record('e2e (real tunnels in namespaces)', [
          'Real portal (workerd, PlanetScale driver → psdb → MariaDB), two real agents (wireguard-go, OpenVPN) with their data planes in namespaces, clients in namespaces on a bridge; times from the e2e tier (`vitest run --config test/e2e/vitest.config.ts`); "load" is the 1-minute load average when taken (the machine is shared).',
          '',
          ...lines,
          '',
          `Whole run ${Math.round((Date.now() - started) / 1000)} s.`,
        ]);
      }
    }
    if (process.env.E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
  };
}
