import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, parseNodeMessage, type DesiredConfig, type HubMessage, type NodeMessage } from '@edgeport/schema';
import type { Logger } from '../src/backends/types.ts';
import { startAgent, type RunningAgent } from '../src/agent.ts';
import { Backoff } from '../src/backoff.ts';
import { createFakeBackend, type FakeWireguardState } from '../src/fake-backend.ts';

/**
 * The agent's event loop and channel against an in-process hub: a real WebSocket server speaking
 * the wire protocol from schema/. The real portal cannot push deltas yet, so the delta rules
 * (order, replay, gap) are exercised end to end here; the black-box tier in test/ runs the
 * bundled agent against the real portal.
 */

const dir = mkdtempSync(join(tmpdir(), 'ep-agent-hub-'));
const CREDENTIAL = 'c'.repeat(48);
const K = (n: number) => `${String.fromCharCode(65 + n).repeat(42)}A=`;
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function until<T>(what: string, ms: number, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One node connection as the hub sees it. */
class HubSocket {
  readonly received: NodeMessage[] = [];
  private read = 0;
  closed: number | null = null;
  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const parsed = parseNodeMessage(String(data));
      if (parsed.kind !== 'ok') throw new Error(`agent sent a bad frame: ${JSON.stringify(parsed)}`);
      this.received.push(parsed.message);
    });
    ws.on('close', (code) => (this.closed = code));
  }
  /** The next message the test cares about (periodic reports are skipped unless asked for). */
  async next(types: NodeMessage['type'][] = ['hello', 'ack', 'need_snapshot', 'error']): Promise<NodeMessage> {
    return until(`a ${types.join('/')} message`, 5000, () => {
      while (this.read < this.received.length) {
        const m = this.received[this.read++] as NodeMessage;
        if (types.includes(m.type)) return m;
      }
      return undefined;
    });
  }
  async quiet(ms = 300): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return !this.received.slice(this.read).some((m) => m.type !== 'heartbeat' && m.type !== 'sessions');
  }
  send(m: HubMessage | Record<string, unknown> | string) {
    this.ws.send(typeof m === 'string' ? m : JSON.stringify(m));
  }
}

/** A stand-in portal: checks the two headers like portal-worker's /node/ws, or answers 401 when told to. */
class Hub {
  readonly connections: HubSocket[] = [];
  refuse = false;
  upgrades = 0;
  private constructor(
    private readonly server: Server,
    private readonly wss: WebSocketServer,
  ) {}

  static async start(nodeId: string, port = 0): Promise<Hub> {
    const wss = new WebSocketServer({ noServer: true });
    const server = createServer((_req, res) => res.writeHead(404).end());
    const hub = new Hub(server, wss);
    server.on('upgrade', (req, socket, head) => {
      hub.upgrades += 1;
      if (hub.refuse || req.headers.authorization !== `Bearer ${CREDENTIAL}` || req.headers['x-edgeport-node'] !== nodeId || req.url !== '/node/ws') {
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
        return;
      }
      wss.handleUpgrade(req, socket, head, (ws) => hub.connections.push(new HubSocket(ws)));
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanup.push(() => hub.close());
    return hub;
  }

  get url(): URL {
    return new URL(`http://127.0.0.1:${(this.server.address() as AddressInfo).port}`);
  }

  connection(n: number): Promise<HubSocket> {
    return until(`connection ${n}`, 5000, () => this.connections[n]);
  }

  async close(): Promise<void> {
    for (const c of this.connections) c.ws.terminate();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

function memoryLogger(): Logger & { lines: { level: string; msg: string; fields: Record<string, unknown> }[] } {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const log = (level: string) => (msg: string, fields: Record<string, unknown> = {}) => void lines.push({ level, msg, fields });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}

const profile = {
  id: 'staff',
  display_name: 'Staff',
  default_gateway: true,
  dns_servers: [],
  dns_search_domains: [],
  routes: [],
  exclude_routes: [],
  wireguard: { range_four: '10.43.0.0/24', range_six: 'fd43::/64', port: 51820 },
  openvpn: null,
};
const peer = (n: number, expires_at = Date.now() + 3600_000) => ({ public_key: K(n), profile_id: 'staff', ip_four: `10.43.0.${n + 2}`, ip_six: `fd43::${n + 2}`, expires_at });
const config = (revision: number, peers: ReturnType<typeof peer>[]): DesiredConfig => ({ node_id: 'ams1', revision, ca_cert: null, profiles: [profile], peers, certificates: [] });

let seq = 0;
async function agentFor(portals: URL[], over: { reconcileEveryMs?: number; heartbeatMs?: number; sessionsMs?: number; stateDir?: string } = {}) {
  const stateDir = over.stateDir ?? join(dir, `agent-${++seq}`);
  const logger = memoryLogger();
  const agent: RunningAgent = await startAgent(
    { portalUrls: portals, nodeId: 'ams1', credential: CREDENTIAL, stateDir, wgInterface: 'wg0', heartbeatMs: over.heartbeatMs ?? 60_000, sessionsMs: over.sessionsMs ?? 60_000 },
    {
      version: 'test',
      logger,
      wireguard: await createFakeBackend(stateDir, logger),
      metrics: null,
      // No jitter, 10 ms doubling to a 300 ms cap: the reconnect paths run fast, the rules are the same.
      backoff: new Backoff(() => 0, 10, 300),
      settleMs: 100,
      ...(over.reconcileEveryMs ? { reconcileEveryMs: over.reconcileEveryMs } : {}),
    },
  );
  cleanup.push(() => agent.stop());
  const fake = () => JSON.parse(readFileSync(join(stateDir, 'fake-peers.json'), 'utf8')) as FakeWireguardState;
  return { agent, logger, stateDir, fake, peerKeys: () => fake().peers.map((p) => p.public_key) };
}

describe('agent and channel against a hub', () => {
  it('applies a snapshot and in-order deltas and acks them; re-acks a replay; asks once for a snapshot on a gap; ignores unknown types', async () => {
    const hub = await Hub.start('ams1');
    const a = await agentFor([hub.url]);
    const node = await hub.connection(0);
    expect(await node.next()).toEqual({ type: 'hello', protocol: PROTOCOL_VERSION, node_id: 'ams1', agent_version: 'test', applied_revision: null, wg_public_key: null, capabilities: ['wireguard'] });

    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: config(5, [peer(0)]) });
    // The interface now exists: a second hello tells the hub the node's key, then the ack.
    const rehello = await node.next();
    expect(rehello).toMatchObject({ type: 'hello', applied_revision: 5, wg_public_key: a.fake().interface?.public_key });
    expect(await node.next()).toEqual({ type: 'ack', revision: 5 });
    expect(a.peerKeys()).toEqual([K(0)]);

    node.send({ type: 'from_a_newer_portal', anything: 1 });
    node.send('not JSON');
    expect(await node.next()).toMatchObject({ type: 'error', code: 'protocol' });
    expect(a.logger.lines.some((l) => l.msg === 'unknown portal message ignored' && l.fields.type === 'from_a_newer_portal')).toBe(true);

    const add1 = { type: 'delta', base: 5, revision: 6, changes: [{ op: 'peer_add', peer: peer(1) }] } as const;
    node.send(add1);
    expect(await node.next()).toEqual({ type: 'ack', revision: 6 });
    expect(a.peerKeys()).toEqual([K(0), K(1)]);
    node.send(add1);
    expect(await node.next()).toEqual({ type: 'ack', revision: 6 });

    node.send({ type: 'delta', base: 7, revision: 8, changes: [{ op: 'peer_add', peer: peer(2) }] });
    expect(await node.next()).toMatchObject({ type: 'need_snapshot', reason: expect.stringContaining('7->8') });
    node.send({ type: 'delta', base: 8, revision: 9, changes: [] });
    expect(await node.quiet()).toBe(true);
    expect(a.peerKeys()).toEqual([K(0), K(1)]);
    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: config(9, [peer(0), peer(1), peer(2)]) });
    expect(await node.next()).toEqual({ type: 'ack', revision: 9 });

    node.send({ type: 'delta', base: 9, revision: 10, changes: [{ op: 'peer_remove', public_key: K(0) }] });
    expect(await node.next()).toEqual({ type: 'ack', revision: 10 });
    expect(a.peerKeys()).toEqual([K(1), K(2)]);
    expect(JSON.parse(readFileSync(join(a.stateDir, 'desired.json'), 'utf8'))).toMatchObject({ revision: 10, peers: [{ public_key: K(1) }, { public_key: K(2) }] });
    expect(a.agent.metrics()).toMatchObject({ connected: true, appliedRevision: 10, peers: 2, reconnects: 0 });
  });

  it('sends heartbeats and sessions reports the hub accepts', async () => {
    const hub = await Hub.start('ams1');
    await agentFor([hub.url], { heartbeatMs: 100, sessionsMs: 100 });
    const node = await hub.connection(0);
    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: config(1, [peer(0)]) });
    expect(await node.next(['heartbeat'])).toMatchObject({ type: 'heartbeat', cpu_count: expect.any(Number) });
    expect(await node.next(['sessions'])).toMatchObject({ type: 'sessions', counts: [{ profile_id: 'staff', protocol: 'wireguard', count: 0 }] });
  });

  it('comes back from its saved config, says what it has in hello, and gets only what it missed', async () => {
    const hub = await Hub.start('ams1');
    const first = await agentFor([hub.url]);
    const node = await hub.connection(0);
    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: config(3, [peer(0)]) });
    await until('ack 3', 5000, () => node.received.some((m) => m.type === 'ack' && m.revision === 3));
    await first.agent.stop();
    expect(node.closed).toBe(1000);

    const again = await agentFor([hub.url], { stateDir: first.stateDir });
    const back = await hub.connection(1);
    expect(await back.next()).toMatchObject({ type: 'hello', applied_revision: 3, wg_public_key: first.fake().interface?.public_key });
    back.send({ type: 'delta', base: 3, revision: 4, changes: [{ op: 'peer_add', peer: peer(1) }] });
    expect(await back.next()).toEqual({ type: 'ack', revision: 4 });
    expect(again.peerKeys()).toEqual([K(0), K(1)]);
  });

  it('removes expired peers on its own while the portal is away', async () => {
    const hub = await Hub.start('ams1');
    const a = await agentFor([hub.url], { reconcileEveryMs: 100 });
    const node = await hub.connection(0);
    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: config(1, [peer(0), peer(1, Date.now() + 400)]) });
    await until('ack 1', 5000, () => node.received.some((m) => m.type === 'ack'));
    expect(a.peerKeys()).toEqual([K(0), K(1)]);
    await hub.close();
    await until('the expired peer removed', 5000, () => a.peerKeys().length === 1);
    expect(a.peerKeys()).toEqual([K(0)]);
    expect(a.agent.metrics().connected).toBe(false);
  });

  it('waits the cap after a 401 and moves on to the next portal; a revoked error waits the cap too', async () => {
    const refusing = await Hub.start('ams1');
    refusing.refuse = true;
    const good = await Hub.start('ams1');
    const a = await agentFor([refusing.url, good.url]);
    const node = await good.connection(0);
    expect(await node.next()).toMatchObject({ type: 'hello' });
    const refused = a.logger.lines.find((l) => l.msg === 'portal connection ended');
    expect(refused?.fields).toMatchObject({ portal: refusing.url.origin, failure: 'refused', retry_in_ms: 300 });
    expect(refusing.upgrades).toBe(1);

    node.send({ type: 'error', code: 'revoked', message: 'revoked by an administrator' });
    node.ws.close(4003, 'revoked');
    await until('the revoked failure', 5000, () => a.logger.lines.find((l) => l.msg === 'portal connection ended' && l.fields.failure === 'revoked'));
    // Round robin: back to the first portal, after the cap.
    await until('a second attempt at the first portal', 5000, () => refusing.upgrades === 2);
    expect(a.agent.metrics().reconnects).toBeGreaterThanOrEqual(2);
  });

  it('backs off growing after network failures and starts over once a connection works', async () => {
    const down = await Hub.start('ams1');
    const url = down.url;
    await down.close();
    const a = await agentFor([url]);
    const ended = () => a.logger.lines.filter((l) => l.msg === 'portal connection ended').map((l) => l.fields);
    const first = (await until('six failures', 5000, () => ended().length >= 6 && ended())).slice(0, 6);
    expect(first.map((f) => [f.failure, f.retry_ceiling_ms])).toEqual([
      ['network', 10],
      ['network', 20],
      ['network', 40],
      ['network', 80],
      ['network', 160],
      ['network', 300],
    ]);

    const up = await Hub.start('ams1', Number(url.port));
    const node = await up.connection(0);
    await node.next();
    await new Promise((r) => setTimeout(r, 300));
    const before = ended().length;
    node.ws.terminate();
    await until('the lost connection', 5000, () => ended().length > before);
    expect(ended()[before]).toMatchObject({ failure: 'lost', retry_ceiling_ms: 10 });
  });
});
