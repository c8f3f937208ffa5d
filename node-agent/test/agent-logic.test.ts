import { describe, expect, it } from 'vitest';
import { NodeMessage, type DesiredConfig } from '@edgeport/schema';
import type { OpenvpnClient, WireguardPeerState } from '../src/backends/types.ts';
import { Backoff } from '../src/backoff.ts';
import { backoffAfter, channelUrl, failureOfClose, isRefusal, nextPortal, onDelta, type Failure } from '../src/channel-logic.ts';
import { heartbeatMessage, sessionTotal, sessionsReport } from '../src/reports.ts';
import { renderMetrics } from '../src/metrics.ts';

const K = (n: number) => `${String.fromCharCode(65 + n).repeat(42)}A=`;

describe('what a delta does', () => {
  it.each([
    ['next in order', 3, 3, 4, 'apply'],
    ['first after the snapshot at 0', 0, 0, 1, 'apply'],
    ['replay of the last one', 4, 3, 4, 'ignore'],
    ['older, out of order', 5, 1, 2, 'ignore'],
    ['gap: base ahead of what we have', 3, 4, 5, 'need_snapshot'],
    ['overlapping what we have', 3, 2, 4, 'need_snapshot'],
    ['nothing held yet', null, 0, 1, 'need_snapshot'],
  ] as const)('%s', (_name, applied, base, revision, decision) => {
    expect(onDelta(applied, { base, revision })).toBe(decision);
  });
});

describe('which backoff after which failure', () => {
  it.each([
    [{ kind: 'network', detail: 'ECONNREFUSED' }, 'grow'],
    [{ kind: 'network', detail: 'HTTP 502 on the upgrade' }, 'grow'],
    [{ kind: 'lost', code: 1006, reason: '' }, 'grow'],
    [{ kind: 'refused', status: 401 }, 'cap'],
    [{ kind: 'refused', status: 403 }, 'cap'],
    [{ kind: 'revoked', detail: 'revoked' }, 'cap'],
    [{ kind: 'rejected', detail: 'portal speaks protocol 2' }, 'cap'],
    [{ kind: 'replaced' }, 'cap'],
  ] as [Failure, 'grow' | 'cap'][])('%o → %s', (failure, how) => {
    expect(backoffAfter(failure)).toBe(how);
  });

  it.each([
    [4003, { kind: 'revoked' }],
    [4000, { kind: 'replaced' }],
    [1006, { kind: 'lost', code: 1006 }],
    [1001, { kind: 'lost', code: 1001 }],
  ])('close code %i', (code, failure) => {
    expect(failureOfClose(code, '')).toMatchObject(failure);
  });

  it.each([
    [401, true],
    [403, true],
    [404, false],
    [500, false],
    [502, false],
  ])('HTTP %i on the upgrade is a refusal: %s', (status, refusal) => {
    expect(isRefusal(status)).toBe(refusal);
  });

  it('grows from 1 s doubling to the 60 s cap with full jitter, waits the cap after a refusal, and starts over after a reset', () => {
    const top = new Backoff(() => 0.999999);
    const ceilings: number[] = [];
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      ceilings.push(top.ceilingMs);
      delays.push(top.next());
    }
    expect(ceilings).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
    delays.forEach((d, i) => expect(d).toBeLessThan(ceilings[i] as number));
    expect(new Backoff(() => 0).next()).toBe(0);
    top.reset();
    expect(top.ceilingMs).toBe(1000);
    expect(top.refused()).toBe(60_000);
    expect(top.ceilingMs).toBe(60_000);
  });

  it('moves round robin through the portals', () => {
    expect([nextPortal(0, 3), nextPortal(1, 3), nextPortal(2, 3), nextPortal(0, 1)]).toEqual([1, 2, 0, 0]);
  });

  it.each([
    ['https://portal.example.org', 'wss://portal.example.org/node/ws'],
    ['https://portal.example.org:8443/some/path', 'wss://portal.example.org:8443/node/ws'],
    ['http://127.0.0.1:8787', 'ws://127.0.0.1:8787/node/ws'],
  ])('%s → %s', (portal, ws) => {
    expect(channelUrl(new URL(portal)).href).toBe(ws);
  });
});

describe('sessions report', () => {
  const NOW_S = 2_000_000_000;
  const profile = (id: string, wg: boolean, ovpn: boolean) => ({
    id,
    display_name: id,
    default_gateway: true,
    dns_servers: [],
    dns_search_domains: [],
    routes: [],
    exclude_routes: [],
    wireguard: wg ? { range_four: '10.43.0.0/24', range_six: 'fd43::/64', port: 51820 } : null,
    openvpn: ovpn ? { range_four: '10.42.0.0/24', range_six: 'fd42::/64', udp_ports: [1194], tcp_ports: [], tls_crypt_key: 'x' } : null,
  });
  const peer = (n: number, profile_id: string) => ({ public_key: K(n), profile_id, ip_four: `10.43.0.${n + 2}`, ip_six: `fd43::${n + 2}`, expires_at: NOW_S * 1000 + 3600_000 });
  const desired: DesiredConfig = {
    node_id: 'n',
    revision: 7,
    ca_cert: null,
    profiles: [profile('staff', true, true), profile('guests', true, false), profile('legacy', false, true)],
    peers: [peer(0, 'staff'), peer(1, 'staff'), peer(2, 'guests'), peer(3, 'staff')],
    certificates: [],
  };
  const state = (lastHandshake: number | null, rx = 0, tx = 0): WireguardPeerState => ({ allowedIps: [], endpoint: null, lastHandshake, rx, tx });
  const observed = new Map([
    [K(0), state(NOW_S - 10, 100, 200)], // recent: a session
    [K(1), state(NOW_S - 181, 5, 6)], // past the 3-minute window
    [K(2), state(NOW_S - 180, 7, 8)], // exactly at the window: still a session
    [K(3), state(null)], // configured, never connected
    [K(9), state(NOW_S - 1)], // not in the desired config (about to be removed): not counted
  ]);
  const client = (cn: string, profileId: string): OpenvpnClient => ({
    process: `${profileId}-0`,
    profileId,
    cid: 1,
    commonName: cn,
    ipFour: '10.42.0.2',
    ipSix: null,
    rx: 1,
    tx: 2,
    connectedSince: NOW_S - 60,
    realAddress: null,
  });
  const report = sessionsReport(desired, observed, [client('a', 'staff'), client('b', 'legacy'), client('c', 'gone')], NOW_S * 1000);

  it('counts WireGuard handshakes in the last 3 minutes and OpenVPN clients, per profile and protocol, zeros included', () => {
    expect(report.counts).toEqual([
      { profile_id: 'staff', protocol: 'wireguard', count: 1 },
      { profile_id: 'guests', protocol: 'wireguard', count: 1 },
      { profile_id: 'staff', protocol: 'openvpn', count: 1 },
      { profile_id: 'legacy', protocol: 'openvpn', count: 1 },
    ]);
    expect(sessionTotal(report)).toBe(4);
  });

  it('reports per-peer counters in epoch ms for peers that ever handshook, and is a valid wire message', () => {
    expect(report.peers.map((p) => p.public_key)).toEqual([K(0), K(1), K(2), K(9)]);
    expect(report.peers[0]).toEqual({ public_key: K(0), last_handshake: (NOW_S - 10) * 1000, rx: 100, tx: 200 });
    expect(report.clients[0]).toMatchObject({ common_name: 'a', profile_id: 'staff', connected_since: (NOW_S - 60) * 1000 });
    expect(NodeMessage.safeParse(report).success).toBe(true);
  });

  it('is empty without a config', () => {
    expect(sessionsReport(null, observed, [], NOW_S * 1000).counts).toEqual([]);
  });

  it('heartbeat: rounded load, at least one CPU, whole seconds, the node key again, a valid wire message', () => {
    const key = 'IsppAW5sQmzGetwFWQHq72CoCHJUEXXmE3+ottk9VhQ=';
    const hb = heartbeatMessage(3, { loadAverage: [0.123, 1.5, 2, 9], cpuCount: 0, uptimeS: 12.9 }, key);
    expect(hb).toEqual({ type: 'heartbeat', applied_revision: 3, load_average: [0.12, 1.5, 2], cpu_count: 1, uptime_s: 12, wg_public_key: key });
    expect(NodeMessage.safeParse(hb).success).toBe(true);
    // An older agent's heartbeat (no key) still parses.
    expect(NodeMessage.safeParse({ type: 'heartbeat', applied_revision: 3, load_average: [], cpu_count: 1, uptime_s: 1 }).success).toBe(true);
    expect(NodeMessage.safeParse(heartbeatMessage(null, { loadAverage: [], cpuCount: 8, uptimeS: 0 })).success).toBe(true);
  });
});

describe('metrics text', () => {
  it('renders every gauge, -1 for no revision, and escapes the version label', () => {
    const text = renderMetrics({ version: '1.2.3"x', connected: true, appliedRevision: null, peers: 4, sessions: 2, reconnects: 5 });
    expect(text).toContain('edgeport_agent_info{version="1.2.3\\"x"} 1\n');
    expect(text).toContain('edgeport_agent_connected 1\n');
    expect(text).toContain('edgeport_agent_applied_revision -1\n');
    expect(text).toContain('edgeport_agent_peers 4\n');
    expect(text).toContain('edgeport_agent_sessions 2\n');
    expect(text).toContain('# TYPE edgeport_agent_reconnects_total counter\nedgeport_agent_reconnects_total 5\n');
  });
});
