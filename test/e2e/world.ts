/**
 * One end-to-end world: the service as it would be deployed in its HA shape, all on this machine.
 *
 *   MariaDB ← psdb (PlanetScale protocol) ← dbLink (fault proxy) ← portal A (workerd) [+ portal B]
 *   portal A ← linkA (fault proxy, one per node) ← agent (host namespace) → wireguard-go/openvpn in
 *   the node's namespace, reachable at 10.200.0.<n> over a bridge from client namespaces.
 *
 * Agents know portal A (linkA); for the HA scenario they are restarted with linkB (portal B) too. Everything
 * is torn down by close() (afterAll); the topology's exit hook and the global teardown catch
 * what a crash would leave.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql, { type Pool, type RowDataPacket } from 'mysql2/promise';
import { mysqlOptions } from '../psdb/databases.ts';
import { createDatabase, dropDatabase, startPsdbServer, type PsdbServer } from '../psdb/server.ts';
import { AgentProcess, until } from '../support/agent-process.ts';
import { appAccessToken } from '../support/app-client.ts';
import { HttpBrowser } from '../support/browser.ts';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.ts';
import { NetnsTopology, type Host } from '../support/netns-topology.ts';
import { SETUP_TOKEN } from '../support/portal.ts';
import { serviceSecrets, startPortalInstance, type PortalInstance } from '../support/portal-instance.ts';
import { Sandbox, run } from '../support/vpn-tools.ts';

const execFileP = promisify(execFile);
export const ADMIN_PASSWORD = 'e2e admin password 0123';
export const USER_PASSWORD = 'e2e user password 0123';
export const PROFILE = 'staff';
export const WG_ACCEPT = 'application/x-wireguard-profile';
export const OVPN_ACCEPT = 'application/x-openvpn-profile';
/** The agents' report interval: small, so "within one report interval" is quick to see. */
export const SESSIONS_SECONDS = 1;

export interface NodeHandle {
  id: string;
  host: Host;
  iface: string;
  stateDir: string;
  runDir: string;
  credentialFile: string;
  /** The agent's first portal URL: a fault proxy in front of portal A. */
  linkA: FaultProxy;
  /** Its second: a fault proxy in front of portal B (refusing while there is no B). */
  linkB: FaultProxy;
  agent: AgentProcess | null;
}

export interface Connected {
  status: number;
  body: string;
  headers: Headers;
  /** The node the config points at (by its address), null if none. */
  node: NodeHandle | null;
  ms: number;
}

export class World {
  readonly agents: AgentProcess[] = [];
  /** Each agent process with a label, for the logs kept in the run folder. */
  private readonly agentLog: [string, AgentProcess][] = [];
  readonly sandbox = new Sandbox();
  readonly topo = new NetnsTopology();
  readonly nodes: NodeHandle[] = [];
  private readonly links: FaultProxy[] = [];
  private clients = 0;
  dir = '';
  database = '';
  psdb!: PsdbServer;
  dbLink!: FaultProxy;
  sql!: Pool;
  bindings: Record<string, string> = {};
  portalA!: PortalInstance;
  portalB: PortalInstance | null = null;
  admin!: HttpBrowser;
  agentFile = process.env.EDGEPORT_E2E_AGENT ?? '';

  private constructor(readonly name: string) {}

  static async create(name: string): Promise<World> {
    if (!process.env.EDGEPORT_E2E_AGENT) throw new Error('run through test/e2e/vitest.config.ts (its global setup builds the agent)');
    const w = new World(name);
    try {
      await w.build();
    } catch (err) {
      await w.close().catch(() => undefined);
      throw err;
    }
    return w;
  }

  private async build(): Promise<void> {
    // Inside the run folder when there is one, so E2E_KEEP=1 keeps state dirs and server logs too.
    const runDir = process.env.EDGEPORT_E2E_DIR;
    this.dir = runDir ? mkdtempSync(join(runDir, `${this.name}-`)) : await this.sandbox.tempDir(`ep-e2e-${this.name}-`);
    await this.topo.start();
    // The run's tag in the name: the global setup drops the databases of runs that were killed.
    this.database = `ep_test_e2e_${this.topo.tag}_${this.name}_${randomBytes(3).toString('hex')}`;
    await createDatabase(this.database);
    // Transactions whose COMMIT never arrives are rolled back after 3 s (PlanetScale: 20 s).
    this.psdb = await startPsdbServer({ database: this.database, idleTransactionMs: 3_000 });
    this.dbLink = await this.proxy(this.psdb.port);
    const url = new URL(this.psdb.url);
    url.port = String(this.dbLink.port);
    this.sql = mysql.createPool({ ...mysqlOptions(), database: this.database, connectionLimit: 4 });
    this.bindings = { ...(await serviceSecrets()), DB_DRIVER: 'planetscale', DATABASE_URL: url.toString().replace(/\/$/, ''), MAX_ACTIVE_API_CONFIGS: '20' };
    this.portalA = await startPortalInstance({ persist: join(this.dir, 'portal-a'), bindings: this.bindings });
    const setup = await fetch(`${this.portalA.origin}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: ADMIN_PASSWORD }),
    });
    if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
    this.admin = new HttpBrowser(this.portalA.origin);
    if ((await this.admin.login('admin', ADMIN_PASSWORD)).status !== 303) throw new Error('admin login failed');
    // Split tunnel: the clients only route the VPN ranges, so each namespace keeps its own link.
    const profile = {
      id: PROFILE,
      display_name: 'Staff',
      host_name: 'vpn.example.org',
      default_gateway: false,
      wireguard: { range_four: '10.60.0.0/24', range_six: 'fd60::/64', port: 51820 },
      openvpn: { range_four: '10.70.0.0/24', range_six: 'fd70::/64', udp_ports: [1194], tcp_ports: [] },
    };
    await this.adminOk('POST', '/admin/api/profiles', profile, 201);
    for (const n of [1, 2]) this.nodes.push(await this.enroll(n));
  }

  private async proxy(targetPort: number): Promise<FaultProxy> {
    const p = await startFaultProxy({ targetPort, seed: 1000 + this.links.length });
    this.links.push(p);
    return p;
  }

  async adminOk(method: string, path: string, body: unknown, status = 200): Promise<unknown> {
    const r = await this.admin.api(method, path, body);
    const text = await r.text();
    if (r.status !== status) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** node<n> at 10.200.0.<n>, with its own ranges (10.6n/24 WireGuard, 10.7n/24 OpenVPN), enrolled. */
  private async enroll(n: number): Promise<NodeHandle> {
    const id = `node${n}`;
    const host = await this.topo.host(`n${n}`, n);
    const assignment = { profile_id: PROFILE, wireguard: { range_four: `10.6${n}.0.0/24`, range_six: `fd6${n}::/64` }, openvpn: { range_four: `10.7${n}.0.0/24`, range_six: `fd7${n}::/64` } };
    await this.adminOk('POST', '/admin/api/nodes', { id, name: id, host_name: host.address, profiles: [assignment] }, 201);
    const { command } = (await this.adminOk('POST', `/admin/api/nodes/${id}/enrollment`, undefined, 201)) as { command: string };
    const base = join(this.dir, id);
    mkdirSync(base, { recursive: true });
    const node: NodeHandle = {
      id,
      host,
      iface: this.topo.interfaceName(`n${n}`),
      stateDir: join(base, 'state'),
      runDir: join(base, 'run'),
      credentialFile: join(base, 'node-credential'),
      linkA: await this.proxy(this.portalA.port),
      linkB: await this.proxy(1),
      agent: null,
    };
    node.linkB.set({ refuse: true });
    await execFileP('node', [this.agentFile, ...command.split(' ').slice(1), '--credential-file', node.credentialFile]);
    return node;
  }

  /**
   * Starts the node's agent (its data plane in the node's namespace). It knows portal A only,
   * unless `bothPortals`: a URL with nothing behind it would take every other reconnect attempt.
   */
  startAgent(node: NodeHandle, opts: { bothPortals?: boolean } = {}): AgentProcess {
    node.agent = new AgentProcess(this.agentFile, this.agents, {
      EDGEPORT_PORTAL_URLS: opts.bothPortals ? `${node.linkA.origin},${node.linkB.origin}` : node.linkA.origin,
      EDGEPORT_NODE_ID: node.id,
      EDGEPORT_CREDENTIAL_FILE: node.credentialFile,
      EDGEPORT_STATE_DIR: node.stateDir,
      EDGEPORT_RUN_DIR: node.runDir,
      EDGEPORT_METRICS_ADDR: '127.0.0.1:0',
      EDGEPORT_NETNS: node.host.netns,
      EDGEPORT_WG_INTERFACE: node.iface,
      EDGEPORT_HEARTBEAT_SECONDS: '5',
      EDGEPORT_SESSIONS_SECONDS: String(SESSIONS_SECONDS),
      // The global teardown finds leftovers by this marker.
      EDGEPORT_E2E_RUN: process.env.EDGEPORT_E2E_RUN ?? '',
    });
    this.agentLog.push([`${node.id}-${this.agentLog.filter(([l]) => l.startsWith(`${node.id}-`)).length + 1}`, node.agent]);
    return node.agent;
  }

  /** Agent up with the portal's config applied and its OpenVPN server running. */
  async agentReady(node: NodeHandle, timeoutMs = 45_000): Promise<AgentProcess> {
    const agent = node.agent as AgentProcess;
    await agent.line('config applied', timeoutMs, (l) => l.why === 'portal');
    await agent.line('openvpn: server started', timeoutMs);
    await until(`${node.id} key known to the portal`, timeoutMs, async () => {
      const [rows] = await this.sql.query<RowDataPacket[]>('SELECT wg_public_key FROM nodes WHERE id = ?', [node.id]);
      return rows[0]?.wg_public_key;
    });
    return agent;
  }

  /** Kills the node's agent and everything in its namespace (wireguard-go, OpenVPN): a crashed machine. */
  async crashNode(node: NodeHandle): Promise<void> {
    await node.agent?.stop('SIGKILL');
    node.agent = null;
    await this.topo.killAll(node.host.netns);
    await until(`${node.id}'s namespace empty`, 5_000, async () => (await this.topo.pids(node.host.netns)).length === 0);
  }

  /** A fresh client namespace on the switch. */
  async client(): Promise<Host> {
    this.clients += 1;
    return this.topo.host(`c${this.clients}`, 100 + this.clients);
  }

  async user(id: string): Promise<string> {
    await this.adminOk('POST', '/admin/api/users', { id, password: USER_PASSWORD, permissions: [] }, 201);
    return id;
  }

  /** What an app holds after OAuth with PKCE through the login form and consent page. */
  token(user: string, origin = this.portalA.origin): Promise<string> {
    return appAccessToken(origin, user, USER_PASSWORD);
  }

  /** POST /api/v3/connect as the app sends it, timed to the last byte of the config. */
  async connect(token: string, accept: string, publicKey?: string, origin = this.portalA.origin): Promise<Connected> {
    const t0 = performance.now();
    const r = await fetch(`${origin}/api/v3/connect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ profile_id: PROFILE, prefer_tcp: 'no', ...(publicKey ? { public_key: publicKey } : {}) }),
    });
    const body = await r.text();
    const ms = performance.now() - t0;
    const node = this.nodes.find((n) => body.includes(`Endpoint = ${n.host.address}:`) || body.includes(`remote ${n.host.address} `)) ?? null;
    return { status: r.status, body, headers: r.headers, node, ms };
  }

  /** The WireGuard peers the node's interface holds, by public key. */
  async nodePeers(node: NodeHandle): Promise<string[]> {
    const { stdout } = await run('ip', ['netns', 'exec', node.host.netns, 'wg', 'show', node.iface, 'peers'], { encoding: 'utf8' });
    return stdout.split('\n').filter(Boolean);
  }

  async count(table: string): Promise<number> {
    const [rows] = await this.sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM \`${table}\``);
    return Number(rows[0]?.n);
  }

  /** node_status, the row the admin's node pages read (written by the node's NodeChannel). */
  async nodeStatus(
    node: NodeHandle,
  ): Promise<{ connected: number; applied_revision: number | null; wanted_revision: number | null; sessions: { at: number; counts: { protocol: string; count: number }[] } | null } | null> {
    const [rows] = await this.sql.query<RowDataPacket[]>('SELECT connected, applied_revision, wanted_revision, sessions_json FROM node_status WHERE node_id = ?', [node.id]);
    const r = rows[0];
    if (!r) return null;
    return {
      connected: Number(r.connected),
      applied_revision: r.applied_revision === null ? null : Number(r.applied_revision),
      wanted_revision: r.wanted_revision === null ? null : Number(r.wanted_revision),
      sessions: r.sessions_json ? JSON.parse(String(r.sessions_json)) : null,
    };
  }

  /** Portal B on the same database and secrets, with storage of its own; the agents' second URL now reaches it. */
  async startPortalB(): Promise<PortalInstance> {
    this.portalB = await startPortalInstance({ persist: join(this.dir, 'portal-b'), bindings: this.bindings });
    for (const n of this.nodes) {
      n.linkB.setTarget(this.portalB.port);
      n.linkB.heal();
    }
    return this.portalB;
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (what: () => Promise<unknown>) => {
      try {
        await what();
      } catch (err) {
        errors.push(err);
      }
    };
    await Promise.all(this.agents.map((a) => attempt(() => a.stop('SIGKILL'))));
    // Kept with E2E_KEEP=1 (the run folder): the first thing to read when a scenario fails.
    const logs = process.env.EDGEPORT_E2E_DIR ? join(process.env.EDGEPORT_E2E_DIR, this.name) : null;
    if (logs) {
      mkdirSync(logs, { recursive: true });
      for (const [label, a] of this.agentLog) writeFileSync(join(logs, `agent-${label}.log`), `${a.stdout}\n--- stderr ---\n${a.stderr}`);
    }
    await attempt(() => this.topo.cleanup());
    await attempt(async () => this.portalB?.stop());
    await attempt(async () => this.portalA?.stop());
    for (const l of this.links) await attempt(() => l.close());
    await attempt(async () => this.sql?.end());
    await attempt(async () => this.psdb?.close());
    if (this.database) await attempt(() => dropDatabase(this.database));
    await attempt(() => this.sandbox.cleanup());
    if (errors.length) throw new AggregateError(errors, 'e2e world teardown failed');
  }
}
