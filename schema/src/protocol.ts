import { z } from 'zod';

/**
 * The node channel wire protocol, defined once for the portal (NodeChannel Durable Object) and
 * the node agent. JSON text frames over one WebSocket per node. Bump PROTOCOL_VERSION only for a
 * change an older peer would misread; new optional fields and new message types do not need it
 * (unknown types are logged and ignored by both sides, never fatal).
 */
export const PROTOCOL_VERSION = 1;

const revision = z.number().int().nonnegative();
const wgKey = z.string().regex(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/);
const cidr = z.string().min(3).max(64);

export const ProfileOnNode = z.object({
  id: z.string(),
  display_name: z.string(),
  default_gateway: z.boolean(),
  dns_servers: z.array(z.string()),
  dns_search_domains: z.array(z.string()),
  routes: z.array(z.string()),
  exclude_routes: z.array(z.string()),
  /** This node's ranges for the profile (the profile's own, or the node's override). */
  wireguard: z.object({ range_four: cidr, range_six: cidr, port: z.number().int() }).nullable(),
  openvpn: z.object({ range_four: cidr, range_six: cidr, udp_ports: z.array(z.number().int()), tcp_ports: z.array(z.number().int()), tls_crypt_key: z.string() }).nullable(),
});
export type ProfileOnNode = z.infer<typeof ProfileOnNode>;

export const Peer = z.object({ public_key: wgKey, profile_id: z.string(), ip_four: z.string(), ip_six: z.string(), expires_at: z.number() });
export type Peer = z.infer<typeof Peer>;

export const Certificate = z.object({ common_name: z.string().min(1).max(64), profile_id: z.string(), expires_at: z.number() });
export type Certificate = z.infer<typeof Certificate>;

/** Everything a node must run, at one revision: what a snapshot carries and what the agent persists. */
export const DesiredConfig = z.object({
  node_id: z.string(),
  revision,
  /** The portal's VPN CA certificate (PEM), for the OpenVPN servers; null without OpenVPN profiles. */
  ca_cert: z.string().nullable(),
  profiles: z.array(ProfileOnNode),
  peers: z.array(Peer),
  certificates: z.array(Certificate),
});
export type DesiredConfig = z.infer<typeof DesiredConfig>;

/**
 * The one WireGuard port a node listens on (upstream eduVPN: one WireGuard port per node, not per
 * profile), from the WireGuard profiles it serves: the port of the profile with the lowest id (by
 * code units, whatever order the list comes in). The portal refuses settings under which a node's
 * WireGuard profiles disagree on the port; for rows accepted before that rule, the agent listens
 * on this port and the portal places WireGuard clients on the node only for profiles with this
 * port. Both sides call this one function, so they cannot pick different ports.
 */
export function nodeWireguardPort(profiles: readonly { id: string; port: number }[]): { profile_id: string; port: number } | null {
  let chosen: { id: string; port: number } | null = null;
  for (const p of profiles) if (chosen === null || p.id < chosen.id) chosen = p;
  return chosen ? { profile_id: chosen.id, port: chosen.port } : null;
}

export const Change = z.discriminatedUnion('op', [
  z.object({ op: z.literal('peer_add'), peer: Peer }),
  z.object({ op: z.literal('peer_remove'), public_key: wgKey }),
  z.object({ op: z.literal('cert_add'), certificate: Certificate }),
  z.object({ op: z.literal('cert_remove'), common_name: z.string() }),
  /** Profile edits are rare and small: the whole list is replaced. */
  z.object({ op: z.literal('profiles'), profiles: z.array(ProfileOnNode), ca_cert: z.string().nullable() }),
]);
export type Change = z.infer<typeof Change>;

// Node → hub
export const NodeMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.number().int(),
    node_id: z.string(),
    agent_version: z.string(),
    /** null: the node has nothing applied (first start, or lost its state): send a snapshot. */
    applied_revision: revision.nullable(),
    wg_public_key: wgKey.nullable(),
    capabilities: z.array(z.enum(['wireguard', 'openvpn'])),
  }),
  z.object({ type: z.literal('ack'), revision }),
  /** The node saw a gap or failed to apply: it wants the whole config again. */
  z.object({ type: z.literal('need_snapshot'), reason: z.string().max(500) }),
  z.object({
    type: z.literal('heartbeat'),
    applied_revision: revision.nullable(),
    load_average: z.array(z.number()).max(3),
    cpu_count: z.number().int().positive(),
    uptime_s: z.number().nonnegative(),
    /** The node's WireGuard key again (optional: older agents leave it out), so a key the portal lost is pinned again without a new hello. */
    wg_public_key: wgKey.nullable().optional(),
  }),
  z.object({
    type: z.literal('sessions'),
    at: z.number(),
    counts: z.array(z.object({ profile_id: z.string(), protocol: z.enum(['wireguard', 'openvpn']), count: z.number().int().nonnegative() })),
    peers: z.array(z.object({ public_key: wgKey, last_handshake: z.number().nullable(), rx: z.number(), tx: z.number() })),
    clients: z.array(
      z.object({ common_name: z.string(), profile_id: z.string(), ip_four: z.string().nullable(), ip_six: z.string().nullable(), rx: z.number(), tx: z.number(), connected_since: z.number() }),
    ),
  }),
  z.object({
    type: z.literal('openvpn_event'),
    event: z.enum(['connect', 'disconnect']),
    at: z.number(),
    common_name: z.string(),
    profile_id: z.string(),
    ip_four: z.string().nullable(),
    ip_six: z.string().nullable(),
    originating_ip: z.string().nullable(),
    rx: z.number().optional(),
    tx: z.number().optional(),
  }),
  /** A certificate signing request for the node's OpenVPN server key (the key never leaves the node). */
  z.object({ type: z.literal('csr'), profile_id: z.string(), csr: z.string().max(8192) }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string().max(2000) }),
]);
export type NodeMessage = z.infer<typeof NodeMessage>;

// Hub → node
export const HubMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('snapshot'), protocol: z.number().int(), config: DesiredConfig }),
  /** Applies on top of `base` only; a node at another revision asks for a snapshot. */
  z.object({ type: z.literal('delta'), base: revision, revision, changes: z.array(Change) }),
  z.object({ type: z.literal('certificate'), profile_id: z.string(), cert: z.string() }),
  z.object({ type: z.literal('error'), code: z.enum(['unauthorized', 'revoked', 'protocol', 'internal']), message: z.string() }),
]);
export type HubMessage = z.infer<typeof HubMessage>;

export type Parsed<T> = { kind: 'ok'; message: T } | { kind: 'unknown'; type: string } | { kind: 'invalid'; error: string };

/**
 * Parses one frame. A well-formed frame of a type this side does not know is `unknown` (a newer
 * peer; log and ignore); anything else malformed is `invalid`.
 */
function parseWith<T>(schema: z.ZodType<T>, known: readonly string[], text: string): Parsed<T> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { kind: 'invalid', error: 'not JSON' };
  }
  const type = typeof value === 'object' && value !== null ? (value as { type?: unknown }).type : undefined;
  if (typeof type === 'string' && !known.includes(type)) return { kind: 'unknown', type };
  const r = schema.safeParse(value);
  return r.success ? { kind: 'ok', message: r.data } : { kind: 'invalid', error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') };
}

const NODE_TYPES = ['hello', 'ack', 'need_snapshot', 'heartbeat', 'sessions', 'openvpn_event', 'csr', 'error'] as const;
const HUB_TYPES = ['snapshot', 'delta', 'certificate', 'error'] as const;

export const parseNodeMessage = (text: string) => parseWith(NodeMessage, NODE_TYPES, text);
export const parseHubMessage = (text: string) => parseWith(HubMessage, HUB_TYPES, text);

/** Applies a delta to a config: pure and idempotent (adding what is there or removing what is not is a no-op). */
export function applyChanges(config: DesiredConfig, revisionTo: number, changes: readonly Change[]): DesiredConfig {
  const peers = new Map(config.peers.map((p) => [p.public_key, p]));
  const certs = new Map(config.certificates.map((c) => [c.common_name, c]));
  let { profiles, ca_cert } = config;
  for (const change of changes) {
    switch (change.op) {
      case 'peer_add':
        peers.set(change.peer.public_key, change.peer);
        break;
      case 'peer_remove':
        peers.delete(change.public_key);
        break;
      case 'cert_add':
        certs.set(change.certificate.common_name, change.certificate);
        break;
      case 'cert_remove':
        certs.delete(change.common_name);
        break;
      case 'profiles':
        profiles = change.profiles;
        ca_cert = change.ca_cert;
        break;
    }
  }
  return { ...config, revision: revisionTo, ca_cert, profiles, peers: [...peers.values()], certificates: [...certs.values()] };
}
