/**
 * Placing one VPN config on a node, shared by the app API (/api/v3/connect) and the browser
 * portal: nodes in random order, health-checked, the config committed and pushed through the
 * node door, and only an acknowledged placement handed out.
 */
import { isUniqueViolation, nodeWireguardPort, type Change } from '@edgeport/schema';
import type { Compilable } from 'kysely';
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { forgetWireguardStart, logWireguardStart } from '../store/connection-log.ts';
import { type deleteConfigsOfAuthorization, deleteExpiredPeers, usedAddresses } from '../store/configs.ts';
import type { servingNodes } from '../store/nodes.ts';
import { ensureTlsCryptKey, wireguardOnNodesOf } from '../store/profiles.ts';
import { candidateAt, candidateCount, indexOf } from '../vpn/addresses.ts';
import { formatCidr, type Cidr } from './ip.ts';
import { toCidr } from '../vpn/prefix.ts';
import { issueClientCertificate, randomCommonName } from '../vpn/ca.ts';
import { vpnCa } from '../vpn/ca-secret.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../vpn/openvpn-config.ts';
import { wireguardClientConfig } from '../vpn/wireguard-config.ts';
import { applyNodeChange, mergeChanges, type NodeNotifier } from './node-door.ts';
import type { ProfileConfig } from './profile.ts';
import { MEDIA, type VpnProto } from './protocol.ts';

export interface PlacementDeps {
  db: Db;
  config: Config;
  notifier: NodeNotifier;
  now: number;
  random: () => number;
  portalUrl: string;
  audit: AuditContext;
}

export interface ConnectResult {
  contentType: string;
  body: string;
  expiresAt: number;
}

/**
 * Whose config is placed: an app's (under its OAuth authorization) or one made in the browser
 * portal (no authorization; the row then carries the device name the user typed). Callers check
 * the profile ACL first, as each answers a refusal its own way (API 404, portal form error).
 */
export interface ConfigOwner {
  userId: string;
  authorizationId: string | null;
  /** The row's display_name: the app's client id, or the portal config's name. */
  displayName: string;
  expiresAt: number;
}

/** What a placement removes in the same batch as its insert (the configs an app connect replaces). */
export interface Clearing {
  statements: ReturnType<typeof deleteConfigsOfAuthorization>;
  removals: Map<string, Change[]>;
  /** Authorizations whose addresses count as free (they are deleted in the same batch). */
  replaced: string[];
}

export interface PlacementRequest {
  profile: ProfileConfig;
  /** The protocols to try, best first; each is tried on every usable node before the next. */
  order: VpnProto[];
  preferTcp: boolean;
  /** The client's WireGuard key; the private key only for portal downloads, which include it. */
  wireguard: { publicKey: string; privateKey?: string } | null;
}

export interface Placed extends ConnectResult {
  proto: VpnProto;
}

export type ServingNode = Awaited<ReturnType<typeof servingNodes>>[number];
type Node = ServingNode;

/** What every node attempt of one placement shares. */
interface Plan {
  deps: PlacementDeps;
  owner: ConfigOwner;
  profile: ProfileConfig;
  /** Statements removing the configs this placement replaces; emptied once committed. */
  clearing: Clearing['statements'];
  /** What those removals mean to the nodes that held the configs; emptied once sent. */
  removals: Map<string, Change[]>;
  replaced: string[];
}

// Attempt n picks among the first 2^n free addresses: alone, a client gets the lowest free one
// (upstream's order); in a burst, contenders spread out instead of colliding round after round.
const ALLOCATION_ATTEMPTS = 10;
// Allocations under way in this isolate per (node, profile). Requests that run together here
// would all pick the same lowest address; spreading them over as many free addresses as there
// are contenders avoids most collisions before they happen (other isolates still retry).
const inFlight = new Map<string, number>();

function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Which nodes listen on this profile's WireGuard port. The portal refuses WireGuard profiles with
 * different ports on one node, but an older database may still hold such a pair: there the agent
 * listens on the port `nodeWireguardPort` picks, and a client of the other profile would get an
 * Endpoint port nobody listens on. Such a node is skipped for WireGuard (logged, for the admin).
 */
async function wireguardListeners(db: Db, profile: ProfileConfig): Promise<Set<string>> {
  const port = profile.wireguard?.port;
  const byNode = new Map<string, { id: string; port: number }[]>();
  for (const w of await wireguardOnNodesOf(db, profile.id)) {
    const list = byNode.get(w.node_id) ?? [];
    list.push({ id: w.profile_id, port: w.port });
    byNode.set(w.node_id, list);
  }
  const listening = new Set<string>();
  for (const [nodeId, list] of byNode) {
    const listen = nodeWireguardPort(list);
    if (listen && listen.port === port) listening.add(nodeId);
    else if (listen) {
      console.log(
        JSON.stringify({
          level: 'warn',
          msg: 'node listens on another WireGuard port than the profile: not placed there',
          node: nodeId,
          profile: profile.id,
          port,
          listen_port: listen.port,
          listen_profile: listen.profile_id,
        }),
      );
    }
  }
  return listening;
}

/**
 * Places one config on the first usable node of the profile, for apps and the portal alike:
 * nodes in random order, each health-checked, the config committed (with `clearing`) and
 * pushed, and only an acknowledged placement returned; a node that does not ack gets the
 * config taken back and the next node is tried. No usable node: 503.
 */
export async function placeConfig(deps: PlacementDeps, owner: ConfigOwner, request: PlacementRequest, serving: readonly ServingNode[], clearing: Clearing): Promise<Placed> {
  const { profile } = request;
  const plan: Plan = { deps, owner, profile, clearing: clearing.statements, removals: clearing.removals, replaced: clearing.replaced };
  const nodes = shuffled(serving, deps.random);
  // Health is asked lazily, node by node, in the shuffled order: usually only the first is asked.
  const health = new Map<string, Promise<boolean>>();
  const healthy = (nodeId: string) => {
    let h = health.get(nodeId);
    if (!h) {
      h = deps.notifier.health(nodeId).then((s) => s.connected && s.lastSeenAt !== null && deps.now - s.lastSeenAt < deps.config.nodes.healthyMs);
      health.set(nodeId, h);
    }
    return h;
  };
  // Read once, and only when WireGuard is tried.
  let listeners: Promise<Set<string>> | null = null;
  for (const proto of request.order) {
    if (proto === 'wireguard' && (!request.wireguard || !profile.wireguard)) continue;
    if (proto === 'wireguard') listeners ??= wireguardListeners(deps.db, profile);
    for (const node of nodes) {
      if (proto === 'wireguard' && !(await listeners)?.has(node.node_id)) continue;
      if (!(await healthy(node.node_id))) continue;
      const done = proto === 'wireguard' ? await connectWireguard(plan, node, request.wireguard as NonNullable<PlacementRequest['wireguard']>) : await connectOpenvpn(plan, node, request.preferTcp);
      if (done) return { ...done, proto };
    }
  }
  throw new AppError('service_unavailable', `no node of profile "${profile.id}" can take a connection now`);
}

/**
 * Where clients of this profile reach this node: the assignment's own host name if set; else the
 * profile's host name for the node that carries the profile's own ranges (the single-server
 * shape, where the profile's name is the service's name); else the node's host name.
 */
function endpointHost(profile: ProfileConfig, node: Node, proto: 'wireguard' | 'openvpn'): string {
  if (node.host_name) return node.host_name;
  const inherits = proto === 'wireguard' ? node.wg_range_four === null : node.ovpn_range_four === null;
  return inherits ? profile.host_name : node.node_host;
}

type WireguardKeys = NonNullable<PlacementRequest['wireguard']>;

async function connectWireguard(plan: Plan, node: Node, keys: WireguardKeys): Promise<ConnectResult | null> {
  const { profile } = plan;
  const wg = profile.wireguard;
  // Upstream: a node is usable for WireGuard only once its public key is known.
  if (!wg || !node.wg_public_key) return null;
  // Parsed once: the scan below runs per connect and must not re-parse text per candidate.
  const range4 = toCidr(node.wg_range_four ?? wg.range_four);
  const range6 = toCidr(node.wg_range_six ?? wg.range_six);
  const count = candidateCount(range4);
  const key = `${node.node_id}\u0000${profile.id}`;
  const contenders = (inFlight.get(key) ?? 0) + 1;
  inFlight.set(key, contenders);
  try {
    return await allocate(plan, node, keys, { range4, range6, count, contenders });
  } finally {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) inFlight.set(key, left);
    else inFlight.delete(key);
  }
}

async function allocate(
  plan: Plan,
  node: Node,
  keys: WireguardKeys,
  { range4, range6, count, contenders }: { range4: Cidr; range6: Cidr; count: number; contenders: number },
): Promise<ConnectResult | null> {
  const { deps, owner, profile, replaced } = plan;
  const { publicKey } = keys;
  const wg = profile.wireguard as NonNullable<ProfileConfig['wireguard']>;
  const nodeKey = node.wg_public_key as string;
  for (let attempt = 0; attempt < ALLOCATION_ATTEMPTS; attempt++) {
    const used = new Set<number>();
    for (const ip of await usedAddresses(deps.db, node.node_id, profile.id, deps.now, replaced)) {
      const i = indexOf(range4, ip);
      if (i !== null) used.add(i);
    }
    const window = contenders * 2 ** attempt;
    const free: number[] = [];
    for (let i = 0; i < count && free.length < window; i++) if (!used.has(i)) free.push(i);
    if (!free.length) return null; // this node's range is full: try the next node
    const ip = candidateAt(range4, range6, free[Math.floor(deps.random() * free.length)] as number);
    const peer = { public_key: publicKey, profile_id: profile.id, ip_four: ip.ipFour, ip_six: ip.ipSix, expires_at: owner.expiresAt };
    let acked: boolean;
    try {
      acked = await place(
        plan,
        node,
        [
          deps.db.kysely
            .insertInto('wg_peers')
            .values({ ...peer, node_id: node.node_id, user_id: owner.userId, authorization_id: owner.authorizationId, display_name: owner.displayName, created_at: deps.now }),
          logWireguardStart(deps.db, { userId: owner.userId, profileId: profile.id, nodeId: node.node_id, publicKey, ipFour: ip.ipFour, ipSix: ip.ipSix, now: deps.now }),
        ],
        { op: 'peer_add', peer },
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const holder = await deps.db.kysely.selectFrom('wg_peers').select('authorization_id').where('public_key', '=', publicKey).executeTakeFirst();
      // A key held by another config (portal configs have no authorization to compare) is taken.
      if (holder && (owner.authorizationId === null || holder.authorization_id !== owner.authorizationId)) throw new AppError('conflict', 'this "public_key" is already in use');
      // Either another instance took the address first, or an expired peer still holds it (expired
      // peers do not count as used, and are cleared here, off the common path): look again.
      await deleteExpiredPeers(deps.db, node.node_id, profile.id, deps.now).execute();
      continue;
    }
    if (!acked) {
      // The node did not confirm in time: give the address back and let the caller try another node.
      await release(plan, node, [deps.db.kysely.deleteFrom('wg_peers').where('public_key', '=', publicKey), forgetWireguardStart(deps.db, publicKey)], { op: 'peer_remove', public_key: publicKey });
      return null;
    }
    return {
      contentType: MEDIA.wireguard,
      expiresAt: owner.expiresAt,
      body: wireguardClientConfig({
        portalUrl: deps.portalUrl,
        profile,
        expiresAt: new Date(owner.expiresAt),
        rangeFour: formatCidr(range4),
        rangeSix: formatCidr(range6),
        ...ip,
        ...(keys.privateKey ? { privateKey: keys.privateKey } : {}),
        nodePublicKey: nodeKey,
        host: endpointHost(profile, node, 'wireguard'),
        port: wg.port,
      }),
    };
  }
  throw new AppError('service_unavailable', 'could not reserve an address; try again');
}

async function connectOpenvpn(plan: Plan, node: Node, preferTcp: boolean): Promise<ConnectResult | null> {
  const { deps, owner, profile } = plan;
  const ovpn = profile.openvpn;
  if (!ovpn) return null;
  const ca = await vpnCa(deps.config);
  const commonName = randomCommonName();
  const [cert, tlsCrypt] = await Promise.all([
    issueClientCertificate(ca, { commonName, profileId: profile.id, notAfter: new Date(owner.expiresAt) }),
    ensureTlsCryptKey(deps.db, profile.id, generateTlsCryptKey),
  ]);
  const certificate = { common_name: commonName, profile_id: profile.id, expires_at: owner.expiresAt };
  const acked = await place(
    plan,
    node,
    [
      deps.db.kysely
        .insertInto('certificates')
        .values({ ...certificate, node_id: node.node_id, user_id: owner.userId, authorization_id: owner.authorizationId, display_name: owner.displayName, created_at: deps.now }),
    ],
    { op: 'cert_add', certificate },
  );
  if (!acked) {
    await release(plan, node, [deps.db.kysely.deleteFrom('certificates').where('common_name', '=', commonName)], { op: 'cert_remove', common_name: commonName });
    return null;
  }
  return {
    contentType: MEDIA.openvpn,
    expiresAt: owner.expiresAt,
    body: openvpnClientConfig({
      portalUrl: deps.portalUrl,
      profile,
      expiresAt: new Date(owner.expiresAt),
      host: endpointHost(profile, node, 'openvpn'),
      udpPorts: ovpn.udp_ports,
      tcpPorts: ovpn.tcp_ports,
      preferTcp,
      caPem: ca.certPem,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      tlsCrypt,
      random: deps.random,
    }),
  };
}

/**
 * Commits the new config (with the removals of what it replaces, the first time) and waits for
 * the chosen node's ack: the client never gets a config its node does not know yet.
 */
async function place(plan: Plan, node: Node, inserts: Compilable[], change: Change): Promise<boolean> {
  const { deps } = plan;
  const changes = mergeChanges(plan.removals, new Map([[node.node_id, [change]]]));
  const acked = await applyNodeChange(deps.db, deps.notifier, [...plan.clearing, ...inserts], changes, { nodeId: node.node_id, waitMs: deps.config.nodes.ackTimeoutMs });
  // Committed and sent: a retry on another node must not delete or announce them again.
  plan.clearing = [];
  plan.removals = new Map();
  return acked;
}

async function release(plan: Plan, node: Node, removes: Compilable[], change: Change): Promise<void> {
  await applyNodeChange(plan.deps.db, plan.deps.notifier, removes, new Map([[node.node_id, [change]]]));
}
