import type { DesiredConfig, NodeMessage } from '@edgeport/schema';
import type { OpenvpnClient, OpenvpnEvent, WireguardPeerState } from './backends/types.ts';

// What the node tells the hub about itself, built from plain inputs so the numbers are table-tested.

/** A WireGuard peer counts as a session while its last handshake is this recent (WireGuard re-keys every 2 min). */
export const SESSION_WINDOW_S = 180;

type SessionsMessage = Extract<NodeMessage, { type: 'sessions' }>;

/**
 * The `sessions` report: counts per profile and protocol for every profile the node serves
 * (zeros included, so usage history has no holes), per-peer counters for peers that ever
 * handshook (the rest carry nothing but zeros), and the OpenVPN clients. Times are epoch ms,
 * like every time on the wire; `wg` and the OpenVPN management interface give seconds.
 */
export function sessionsReport(desired: DesiredConfig | null, peers: ReadonlyMap<string, WireguardPeerState>, clients: readonly OpenvpnClient[], nowMs: number): SessionsMessage {
  const nowS = Math.floor(nowMs / 1000);
  const profileOfPeer = new Map((desired?.peers ?? []).map((p) => [p.public_key, p.profile_id]));
  const wg = new Map<string, number>();
  const ovpn = new Map<string, number>();
  for (const p of desired?.profiles ?? []) {
    if (p.wireguard) wg.set(p.id, 0);
    if (p.openvpn) ovpn.set(p.id, 0);
  }
  for (const [key, state] of peers) {
    const profile = profileOfPeer.get(key);
    if (profile === undefined || !wg.has(profile)) continue;
    if (state.lastHandshake !== null && nowS - state.lastHandshake <= SESSION_WINDOW_S) wg.set(profile, (wg.get(profile) ?? 0) + 1);
  }
  for (const c of clients) if (ovpn.has(c.profileId)) ovpn.set(c.profileId, (ovpn.get(c.profileId) ?? 0) + 1);
  return {
    type: 'sessions',
    at: nowMs,
    counts: [
      ...[...wg].map(([profile_id, count]) => ({ profile_id, protocol: 'wireguard' as const, count })),
      ...[...ovpn].map(([profile_id, count]) => ({ profile_id, protocol: 'openvpn' as const, count })),
    ],
    peers: [...peers].filter(([, s]) => s.lastHandshake !== null).map(([public_key, s]) => ({ public_key, last_handshake: (s.lastHandshake as number) * 1000, rx: s.rx, tx: s.tx })),
    clients: clients.map((c) => ({
      common_name: c.commonName,
      profile_id: c.profileId,
      ip_four: c.ipFour,
      ip_six: c.ipSix,
      rx: c.rx,
      tx: c.tx,
      connected_since: c.connectedSince * 1000,
    })),
  };
}

/** The total a metric shows. */
export const sessionTotal = (report: SessionsMessage): number => report.counts.reduce((n, c) => n + c.count, 0);

/** The heartbeat from the machine's figures (os.loadavg, availableParallelism, uptime). */
export function heartbeatMessage(applied: number | null, m: { loadAverage: number[]; cpuCount: number; uptimeS: number }, wgPublicKey: string | null = null): NodeMessage {
  return {
    type: 'heartbeat',
    applied_revision: applied,
    wg_public_key: wgPublicKey,
    load_average: m.loadAverage.slice(0, 3).map((n) => Math.round(n * 100) / 100),
    cpu_count: Math.max(1, Math.floor(m.cpuCount)),
    uptime_s: Math.max(0, Math.floor(m.uptimeS)),
  };
}

/** A backend event on the wire: OpenVPN counts in seconds, the wire in milliseconds. */
export function openvpnEventMessage(e: OpenvpnEvent): Extract<NodeMessage, { type: 'openvpn_event' }> {
  return {
    type: 'openvpn_event',
    event: e.event,
    at: e.at * 1000,
    common_name: e.commonName,
    profile_id: e.profileId,
    ip_four: e.ipFour,
    ip_six: e.ipSix,
    originating_ip: e.originatingIp,
    ...(e.rx !== undefined ? { rx: e.rx } : {}),
    ...(e.tx !== undefined ? { tx: e.tx } : {}),
  };
}
