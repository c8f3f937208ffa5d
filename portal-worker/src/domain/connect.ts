import { isUniqueViolation } from '@edgeport/schema';
import type { Compilable } from 'kysely';
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { ApiAuth } from '../oauth/bearer.ts';
import type { AuditContext } from '../store/audit.ts';
import { forgetWireguardStart, logWireguardStart } from '../store/connection-log.ts';
import { activeApiAuthorizations, deleteConfigsOfAuthorization, deleteExpiredPeers, removalsOf, usedAddresses } from '../store/configs.ts';
import { servingNodes } from '../store/nodes.ts';
import { allowedFor, ensureTlsCryptKey, getProfile } from '../store/profiles.ts';
import { candidateAt, candidateCount, indexOf } from '../vpn/addresses.ts';
import { formatCidr, type Cidr } from './ip.ts';
import { toCidr } from '../vpn/prefix.ts';
import { issueClientCertificate, randomCommonName } from '../vpn/ca.ts';
import { vpnCa } from '../vpn/ca-secret.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../vpn/openvpn-config.ts';
import { wireguardClientConfig } from '../vpn/wireguard-config.ts';
import { applyNodeChange, mergeChanges, type NodeNotifier } from './node-door.ts';
import type { Change } from '@edgeport/schema';
import type { ProfileConfig } from './profile.ts';
import { acceptedProtocols, MEDIA, protocolOrder, type VpnProto } from './protocol.ts';

export interface ConnectDeps {
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

type Node = Awaited<ReturnType<typeof servingNodes>>[number];

/** What every node attempt of one connect shares. */
interface Plan {
  deps: ConnectDeps;
  auth: ApiAuth;
  profile: ProfileConfig;
  /** Statements removing the configs this connect replaces or evicts; emptied once committed. */
  clearing: ReturnType<typeof deleteConfigsOfAuthorization>;
  /** What those removals mean to the nodes that held the configs; emptied once sent. */
  removals: Map<string, Change[]>;
  /** Authorizations whose addresses count as free (they are deleted in the same batch). */
  replaced: string[];
}

// eduvpn.md §1.3: the exact messages of the upstream error table.
const bad = (message: string) => new AppError('bad_request', message);
// Attempt n picks among the first 2^n free addresses: alone, a client gets the lowest free one
// (upstream's order); in a burst, contenders spread out instead of colliding round after round.
const ALLOCATION_ATTEMPTS = 10;
// Allocations under way in this isolate per (node, profile). Requests that run together here
// would all pick the same lowest address; spreading them over as many free addresses as there
// are contenders avoids most collisions before they happen (other isolates still retry).
const inFlight = new Map<string, number>();

const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

function parseRequest(form: URLSearchParams) {
  const profileId = form.get('profile_id');
  if (!profileId || !/^[a-z0-9][a-z0-9._-]{0,62}$/.test(profileId)) throw bad('invalid value for "profile_id"');
  const preferTcpRaw = form.get('prefer_tcp') ?? (form.get('tcp_only') === null ? 'no' : form.get('tcp_only') === 'on' ? 'yes' : form.get('tcp_only') === 'off' ? 'no' : 'invalid');
  if (preferTcpRaw !== 'yes' && preferTcpRaw !== 'no') throw bad('invalid "prefer_tcp"');
  const publicKey = form.get('public_key');
  if (publicKey !== null && !WG_KEY.test(publicKey)) throw bad('invalid "public_key"');
  return { profileId, preferTcp: preferTcpRaw === 'yes', publicKey };
}

function shuffled<T>(list: readonly T[], random: () => number): T[] {
  const out = [...list];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * POST /api/v3/connect: a new config replaces this authorization's previous ones, the user's
 * oldest app configs beyond the limit are evicted, and the first usable node of the profile
 * (in random order) gets the peer or certificate.
 */
export async function connectCommand(deps: ConnectDeps, auth: ApiAuth, form: URLSearchParams, accept: string | undefined): Promise<ConnectResult> {
  const req = parseRequest(form);
  const max = deps.config.vpn.maxActiveApiConfigs;
  if (max === 0) throw new AppError('forbidden', 'no API configuration downloads allowed');
  // Independent reads go out together: on the edge every round trip to the database counts.
  const [profile, active, ownRemovals, serving] = await Promise.all([
    getProfile(deps.db, req.profileId),
    activeApiAuthorizations(deps.db, auth.userId, deps.now),
    removalsOf(deps.db, 'authorization_id', auth.authorizationId),
    servingNodes(deps.db, req.profileId),
  ]);
  if (!profile || allowedFor([profile], auth.permissions).length === 0) throw new AppError('not_found', 'no such "profile_id"');

  const accepted = acceptedProtocols(accept);
  if (accepted.has('wireguard') && !req.publicKey && profile.wireguard && !profile.openvpn) throw bad('missing "public_key" parameter');
  const order = protocolOrder(profile, accepted, req.publicKey !== null, req.preferTcp);
  if (!order.length) throw new AppError('not_acceptable', 'no common VPN protocol support between client and server profile');

  // Keep (max - 1) other authorizations' configs, so with this one the user holds at most max.
  const others = active.filter((a) => a.authorization_id !== auth.authorizationId);
  const evicted = others.slice(0, Math.max(0, others.length - (max - 1))).map((a) => a.authorization_id);
  const replaced = [auth.authorizationId, ...evicted];
  // Only authorizations that hold configs get delete statements: empty deletes still lock ranges.
  const holding = [{ id: auth.authorizationId, removals: ownRemovals }, ...(await Promise.all(evicted.map(async (id) => ({ id, removals: await removalsOf(deps.db, 'authorization_id', id) }))))];
  const clearing = holding.filter((h) => h.removals.size).flatMap((h) => deleteConfigsOfAuthorization(deps.db, h.id));
  const removals = mergeChanges(...holding.map((h) => h.removals)) as Map<string, Change[]>;

  const plan: Plan = { deps, auth, profile, clearing, removals, replaced };
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
  for (const proto of order) {
    for (const node of nodes) {
      if (!(await healthy(node.node_id))) continue;
      const done = proto === 'wireguard' ? await connectWireguard(plan, node, req.publicKey as string) : await connectOpenvpn(plan, node, req.preferTcp);
      if (done) return done;
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

async function connectWireguard(plan: Plan, node: Node, publicKey: string): Promise<ConnectResult | null> {
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
    return await allocate(plan, node, publicKey, { range4, range6, count, contenders });
  } finally {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) inFlight.set(key, left);
    else inFlight.delete(key);
  }
}

async function allocate(
  plan: Plan,
  node: Node,
  publicKey: string,
  { range4, range6, count, contenders }: { range4: Cidr; range6: Cidr; count: number; contenders: number },
): Promise<ConnectResult | null> {
  const { deps, auth, profile, replaced } = plan;
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
    const peer = { public_key: publicKey, profile_id: profile.id, ip_four: ip.ipFour, ip_six: ip.ipSix, expires_at: auth.expiresAt };
    let acked: boolean;
    try {
      acked = await place(
        plan,
        node,
        [
          deps.db.kysely.insertInto('wg_peers').values({ ...peer, node_id: node.node_id, user_id: auth.userId, authorization_id: auth.authorizationId, display_name: auth.clientId, created_at: deps.now }),
          logWireguardStart(deps.db, { userId: auth.userId, profileId: profile.id, nodeId: node.node_id, publicKey, ipFour: ip.ipFour, ipSix: ip.ipSix, now: deps.now }),
        ],
        { op: 'peer_add', peer },
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const holder = await deps.db.kysely.selectFrom('wg_peers').select('authorization_id').where('public_key', '=', publicKey).executeTakeFirst();
      if (holder && holder.authorization_id !== auth.authorizationId) throw new AppError('conflict', 'this "public_key" is already in use');
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
      expiresAt: auth.expiresAt,
      body: wireguardClientConfig({
        portalUrl: deps.portalUrl,
        profile,
        expiresAt: new Date(auth.expiresAt),
        rangeFour: formatCidr(range4),
        rangeSix: formatCidr(range6),
        ...ip,
        nodePublicKey: nodeKey,
        host: endpointHost(profile, node, 'wireguard'),
        port: wg.port,
      }),
    };
  }
  throw new AppError('service_unavailable', 'could not reserve an address; try again');
}

async function connectOpenvpn(plan: Plan, node: Node, preferTcp: boolean): Promise<ConnectResult | null> {
  const { deps, auth, profile } = plan;
  const ovpn = profile.openvpn;
  if (!ovpn) return null;
  const ca = await vpnCa(deps.config);
  const commonName = randomCommonName();
  const [cert, tlsCrypt] = await Promise.all([
    issueClientCertificate(ca, { commonName, profileId: profile.id, notAfter: new Date(auth.expiresAt) }),
    ensureTlsCryptKey(deps.db, profile.id, generateTlsCryptKey),
  ]);
  const certificate = { common_name: commonName, profile_id: profile.id, expires_at: auth.expiresAt };
  const acked = await place(
    plan,
    node,
    [deps.db.kysely.insertInto('certificates').values({ ...certificate, node_id: node.node_id, user_id: auth.userId, authorization_id: auth.authorizationId, display_name: auth.clientId, created_at: deps.now })],
    { op: 'cert_add', certificate },
  );
  if (!acked) {
    await release(plan, node, [deps.db.kysely.deleteFrom('certificates').where('common_name', '=', commonName)], { op: 'cert_remove', common_name: commonName });
    return null;
  }
  return {
    contentType: MEDIA.openvpn,
    expiresAt: auth.expiresAt,
    body: openvpnClientConfig({
      portalUrl: deps.portalUrl,
      profile,
      expiresAt: new Date(auth.expiresAt),
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
 * the chosen node's ack: the app never gets a config its node does not know yet.
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

/** POST /api/v3/disconnect: every config of this authorization goes; the nodes are told (acks tracked, not awaited). */
export async function disconnectCommand(db: Db, notifier: NodeNotifier, auth: ApiAuth): Promise<void> {
  const removals = await removalsOf(db, 'authorization_id', auth.authorizationId);
  await applyNodeChange(db, notifier, deleteConfigsOfAuthorization(db, auth.authorizationId), removals);
}

export type { VpnProto };
