import '@abraham/reflection';
import * as x509 from '@peculiar/x509';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { PROTOCOL_VERSION, parseNodeMessage, type DesiredConfig, type HubMessage, type NodeMessage } from '@edgeport/schema';
import { createCa, issueServerCertificate, loadCa, type Ca } from '../../portal-worker/src/vpn/ca.ts';
import { generateTlsCryptKey } from '../../portal-worker/src/vpn/openvpn-config.ts';
import type { Logger, OpenvpnBackend, OpenvpnClient, OpenvpnEvent, OpenvpnProcessSpec } from '../src/backends/types.ts';
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
    // An agent that stops or reconnects may reset the TCP connection; a close follows, which is what tests look at.
    ws.on('error', () => {});
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
    readonly _wss: WebSocketServer,
  ) {}

  static async start(nodeId: string, port = 0): Promise<Hub> {
    const wss = new WebSocketServer({ noServer: true });
    const server = createServer((_req, res) => res.writeHead(404).end());
    const hub = new Hub(server, wss);
    server.on('upgrade', (req, socket, head) => {
      hub.upgrades += 1;
      // After an upgrade the socket is ours: a reset by an agent giving up must not go unhandled.
      socket.on('error', () => {});
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
  const log =
    (level: string) =>
    (msg: string, fields: Record<string, unknown> = {}) =>
      void lines.push({ level, msg, fields });
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

/**
 * An OpenvpnBackend that records what the agent asks of it: the real one runs real servers and is
 * tested with real openvpn in openvpn-netns.test.ts; here the subject is the agent's loop.
 */
function recordingOpenvpn() {
  const rec = {
    processes: [] as OpenvpnProcessSpec[][],
    allowed: [] as Map<string, string>[],
    clients: [] as OpenvpnClient[],
    closed: false,
    listener: null as ((e: OpenvpnEvent) => void) | null,
    get running() {
      return rec.processes.at(-1) ?? null;
    },
    get admitted() {
      return rec.allowed.at(-1) ?? null;
    },
  };
  const backend: OpenvpnBackend = {
    ensureProcesses: async (specs) => void rec.processes.push(specs.map((x) => ({ ...x }))),
    setAllowed: async (allowed) => void rec.allowed.push(new Map(allowed)),
    clients: async () => rec.clients,
    onEvent: (listener) => void (rec.listener = listener),
    close: async () => void (rec.closed = true),
  };
  return { backend, rec };
}

let seq = 0;
async function agentFor(portals: URL[], over: { reconcileEveryMs?: number; heartbeatMs?: number; sessionsMs?: number; stateDir?: string; openvpn?: { backend: OpenvpnBackend; runDir: string } } = {}) {
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
      ...(over.openvpn ? { openvpn: { ...over.openvpn, preferAes: true } } : {}),
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

describe('OpenVPN through the agent', () => {
  const notAfter = new Date(Date.now() + 365 * 86_400_000);
  let ca: Ca;
  const tlsCrypt = generateTlsCryptKey();
  const campus = {
    ...profile,
    id: 'campus',
    display_name: 'Campus',
    wireguard: null,
    openvpn: { range_four: '10.50.0.0/24', range_six: 'fd50::/64', udp_ports: [1194], tcp_ports: [443], tls_crypt_key: tlsCrypt },
  };
  const cert = (common_name: string) => ({ common_name, profile_id: 'campus', expires_at: Date.now() + 3600_000 });
  const ovpnConfig = (revision: number): DesiredConfig => ({
    node_id: 'ams1',
    revision,
    ca_cert: ca.certPem,
    profiles: [profile, campus],
    peers: [peer(0)],
    certificates: [cert('alice-cn'), cert('bob-cn'), { ...cert('gone-cn'), expires_at: Date.now() - 1 }],
  });

  it('asks for a server certificate, runs the servers once it has one, keeps admission current, reports clients and events, and comes back without asking again', async () => {
    const stored = await createCa({ commonName: 'Edgeport test CA', notAfter: new Date(Date.now() + 10 * 365 * 86_400_000) });
    ca = await loadCa(stored.certPem, stored.keyPkcs8Pem);
    const hub = await Hub.start('ams1');
    const runDir = join(dir, `run-${++seq}`);
    const first = recordingOpenvpn();
    const a = await agentFor([hub.url], { sessionsMs: 100, openvpn: { backend: first.backend, runDir } });
    const node = await hub.connection(0);
    expect(await node.next()).toMatchObject({ type: 'hello', capabilities: ['wireguard', 'openvpn'] });

    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: ovpnConfig(1) });
    await until('ack 1', 5000, () => node.received.some((m) => m.type === 'ack' && m.revision === 1));
    // The ack needs only admission in place (servers follow on their own): the expired one is left out.
    expect(first.rec.admitted).toEqual(
      new Map([
        ['alice-cn', 'campus'],
        ['bob-cn', 'campus'],
      ]),
    );
    // No certificate yet: nothing runs.
    expect(await until('the servers applied', 5000, () => first.rec.running)).toEqual([]);

    const csrMessage = await node.next(['csr']);
    if (csrMessage.type !== 'csr') throw new Error('expected a csr');
    expect(csrMessage.profile_id).toBe('campus');
    const csr = new x509.Pkcs10CertificateRequest(csrMessage.csr);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('CN=ams1, OU=campus');
    // The key was made on the node, is private to it, and never crossed the wire.
    const keyPath = join(a.stateDir, 'openvpn', 'campus.key');
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyPath, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(node.received.some((m) => JSON.stringify(m).includes('PRIVATE KEY'))).toBe(false);

    const issued = await issueServerCertificate(ca, { csrPem: csrMessage.csr, commonName: 'ams1.example.org', profileId: 'campus', notAfter });
    node.send({ type: 'certificate', profile_id: 'campus', cert: issued.certPem });
    const specs = await until('the servers', 5000, () => (first.rec.running?.length ? first.rec.running : null));
    expect(specs.map((x) => [x.name, x.profileId])).toEqual([
      ['campus-0', 'campus'],
      ['campus-1', 'campus'],
    ]);
    const [udp, tcp] = specs.map((x) => x.config);
    expect(udp).toContain('dev tun0\n');
    expect(tcp).toContain('dev tun1\n');
    expect(udp).toContain('proto udp6\nport 1194\n');
    expect(tcp).toContain('proto tcp6-server\nport 443\n');
    expect(udp).toContain(`management ${runDir}/campus-0.sock unix\n`);
    expect(udp).toContain(`key ${keyPath}\n`);
    expect(udp).toContain(`<cert>\n${issued.certPem.trim()}\n</cert>`);
    expect(udp).toContain(`<ca>\n${ca.certPem.trim()}\n</ca>`);
    expect(udp).toContain(`<tls-crypt>\n${tlsCrypt.trim()}\n</tls-crypt>`);
    expect(udp).toContain('data-ciphers AES-256-GCM:CHACHA20-POLY1305\n');
    expect(udp).not.toContain('PRIVATE KEY');
    const certPath = join(a.stateDir, 'openvpn', 'campus.crt');
    expect(readFileSync(certPath, 'utf8').trim()).toBe(issued.certPem.trim());
    expect(statSync(certPath).mode & 0o777).toBe(0o644);

    // A revoked certificate leaves the admission set with the delta.
    node.send({ type: 'delta', base: 1, revision: 2, changes: [{ op: 'cert_remove', common_name: 'bob-cn' }] });
    expect(await node.next()).toEqual({ type: 'ack', revision: 2 });
    expect(first.rec.admitted).toEqual(new Map([['alice-cn', 'campus']]));

    // Clients in the sessions report, backend events on the wire (seconds → milliseconds).
    first.rec.clients = [
      { process: 'campus-0', profileId: 'campus', cid: 3, commonName: 'alice-cn', ipFour: '10.50.0.2', ipSix: 'fd50::1000', rx: 10, tx: 20, connectedSince: 1_700_000_000, realAddress: '192.0.2.7' },
    ];
    const report = await until('a report with the client', 5000, () => node.received.find((m) => m.type === 'sessions' && m.clients.length === 1));
    expect(report).toMatchObject({
      counts: expect.arrayContaining([
        { profile_id: 'campus', protocol: 'openvpn', count: 1 },
        { profile_id: 'staff', protocol: 'wireguard', count: 0 },
      ]),
      clients: [{ common_name: 'alice-cn', profile_id: 'campus', ip_four: '10.50.0.2', ip_six: 'fd50::1000', rx: 10, tx: 20, connected_since: 1_700_000_000_000 }],
    });
    first.rec.listener?.({ event: 'disconnect', at: 1_700_000_100, profileId: 'campus', commonName: 'alice-cn', ipFour: '10.50.0.2', ipSix: 'fd50::1000', originatingIp: '192.0.2.7', rx: 11, tx: 22 });
    expect(await node.next(['openvpn_event'])).toEqual({
      type: 'openvpn_event',
      event: 'disconnect',
      at: 1_700_000_100_000,
      common_name: 'alice-cn',
      profile_id: 'campus',
      ip_four: '10.50.0.2',
      ip_six: 'fd50::1000',
      originating_ip: '192.0.2.7',
      rx: 11,
      tx: 22,
    });
    expect(node.received.filter((m) => m.type === 'csr')).toHaveLength(1);
    await a.agent.stop();

    // Restart: the saved config and the stored certificate bring the same servers back before the
    // portal says anything, and the portal is not asked again.
    const second = recordingOpenvpn();
    const again = await agentFor([hub.url], { stateDir: a.stateDir, openvpn: { backend: second.backend, runDir } });
    expect(second.rec.running).toEqual(specs);
    expect(second.rec.admitted).toEqual(new Map([['alice-cn', 'campus']]));
    const back = await hub.connection(1);
    expect(await back.next()).toMatchObject({ type: 'hello', applied_revision: 2, capabilities: ['wireguard', 'openvpn'] });
    // Well past the settle time (100 ms) after which an agent asks for missing certificates.
    expect(await back.quiet(600)).toBe(true);
    expect(again.agent.metrics().connected).toBe(true);
    expect(back.received.some((m) => m.type === 'csr')).toBe(false);
  });

  it('keeps connection events that happen while the portal is away and sends them, in order, once back', async () => {
    const down = await Hub.start('ams1');
    const url = down.url;
    await down.close();
    const o = recordingOpenvpn();
    await agentFor([url], { openvpn: { backend: o.backend, runDir: join(dir, `run-${++seq}`) } });
    const event = (event: 'connect' | 'disconnect', at: number): OpenvpnEvent => ({ event, at, profileId: 'campus', commonName: 'alice-cn', ipFour: '10.50.0.2', ipSix: null, originatingIp: null });
    o.rec.listener?.(event('connect', 1_700_000_000));
    o.rec.listener?.(event('disconnect', 1_700_000_060));
    const up = await Hub.start('ams1', Number(url.port));
    const node = await up.connection(0);
    expect(await node.next(['openvpn_event'])).toMatchObject({ event: 'connect', at: 1_700_000_000_000 });
    expect(await node.next(['openvpn_event'])).toMatchObject({ event: 'disconnect', at: 1_700_000_060_000 });
  });

  it('refuses a certificate that does not fit its key and keeps the profile down', async () => {
    const stored = await createCa({ commonName: 'Edgeport test CA', notAfter: new Date(Date.now() + 10 * 365 * 86_400_000) });
    ca = await loadCa(stored.certPem, stored.keyPkcs8Pem);
    const hub = await Hub.start('ams1');
    const o = recordingOpenvpn();
    const a = await agentFor([hub.url], { openvpn: { backend: o.backend, runDir: join(dir, `run-${++seq}`) } });
    const node = await hub.connection(0);
    node.send({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: ovpnConfig(1) });
    await node.next(['csr']);
    // Signed for some other key: the agent must not store it (OpenVPN would refuse to start).
    const keys = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
    const other = await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=x', keys, signingAlgorithm: { name: 'Ed25519' } });
    const wrong = await issueServerCertificate(ca, { csrPem: other.toString('pem'), commonName: 'ams1.example.org', profileId: 'campus', notAfter });
    node.send({ type: 'certificate', profile_id: 'campus', cert: wrong.certPem });
    await until('the refusal logged', 5000, () => a.logger.lines.find((l) => l.msg === 'openvpn: certificate from the portal does not fit; ignored' && l.fields.reason === 'issued for another key'));
    expect(o.rec.running ?? []).toEqual([]);
    expect(() => statSync(join(a.stateDir, 'openvpn', 'campus.crt'))).toThrow();
  });
});
