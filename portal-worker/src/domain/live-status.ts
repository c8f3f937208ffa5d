import type { ConfigRow, SessionsSnapshot } from '../store/live-sessions.ts';

// The rule for "is this configuration in session now", from a node's last sessions report: pure,
// so the connections page and its tests share it without a database.

/** A WireGuard peer is in session while its last handshake is this recent (as the node agent counts, reports.ts). */
export const SESSION_WINDOW_MS = 180_000;
/**
 * A report older than this no longer says who is connected (the node stopped reporting). Nodes
 * report every 10 s by default; the window leaves room for slower settings and a hiccup.
 */
export const REPORT_FRESH_MS = 180_000;

export type LiveStatus =
  | { kind: 'unknown' }
  | { kind: 'offline' }
  /** WireGuard: the peer handshook once, but not within the session window. */
  | { kind: 'idle'; lastHandshake: number; rx: number; tx: number }
  | { kind: 'connected'; protocol: 'wireguard'; lastHandshake: number; rx: number; tx: number }
  | { kind: 'connected'; protocol: 'openvpn'; since: number; ipFour: string | null; ipSix: string | null; rx: number; tx: number };

/** A node's report indexed for lookups; null when there is no fresh report. */
export interface NodeReport {
  at: number;
  peers: Map<string, SessionsSnapshot['peers'][number]>;
  clients: Map<string, SessionsSnapshot['clients'][number]>;
}

export function indexReport(report: SessionsSnapshot | null, now: number): NodeReport | null {
  if (!report || now - report.at > REPORT_FRESH_MS) return null;
  return { at: report.at, peers: new Map(report.peers.map((p) => [p.public_key, p])), clients: new Map(report.clients.map((c) => [c.common_name, c])) };
}

export function liveStatus(c: ConfigRow, report: NodeReport | null): LiveStatus {
  if (!report) return { kind: 'unknown' };
  if (c.protocol === 'openvpn') {
    const client = report.clients.get(c.key);
    return client ? { kind: 'connected', protocol: 'openvpn', since: client.connected_since, ipFour: client.ip_four, ipSix: client.ip_six, rx: client.rx, tx: client.tx } : { kind: 'offline' };
  }
  const peer = report.peers.get(c.key);
  if (!peer || peer.last_handshake === null) return { kind: 'offline' };
  // Measured against the report's own clock, so a skewed portal clock cannot flip the answer.
  if (report.at - peer.last_handshake <= SESSION_WINDOW_MS) return { kind: 'connected', protocol: 'wireguard', lastHandshake: peer.last_handshake, rx: peer.rx, tx: peer.tx };
  return { kind: 'idle', lastHandshake: peer.last_handshake, rx: peer.rx, tx: peer.tx };
}
