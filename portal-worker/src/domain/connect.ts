import { isUniqueViolation } from '@edgeport/schema';
import type { Config } from '../config.ts';
import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { ApiAuth } from '../oauth/bearer.ts';
import type { AuditContext } from '../store/audit.ts';
import { activeApiAuthorizations, deleteConfigsOfAuthorization, deleteExpiredPeers, nodesOfAuthorization, usedAddresses } from '../store/configs.ts';
import { servingNodes } from '../store/nodes.ts';
import { allowedFor, ensureTlsCryptKey, getProfile } from '../store/profiles.ts';
import { candidateAt, candidateCount, indexOf } from '../vpn/addresses.ts';
import { formatCidr, type Cidr } from './ip.ts';
import { toCidr } from '../vpn/prefix.ts';
import { issueClientCertificate, randomCommonName } from '../vpn/ca.ts';
import { vpnCa } from '../vpn/ca-secret.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../vpn/openvpn-config.ts';
import { wireguardClientConfig } from '../vpn/wireguard-config.ts';
import { applyNodeChange, type NodeNotifier } from './node-door.ts';
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
  /** Statements removing the configs this connect replaces or evicts. */
  clearing: ReturnType<typeof deleteConfigsOfAuthorization>;
  /** Nodes that held those configs: they must hear about the change too. */
  previousNodes: string[];
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
  const [profile, active, ownNodes, serving] = await Promise.all([
    getProfile(deps.db, req.profileId),
    activeApiAuthorizations(deps.db, auth.userId, deps.now),
    nodesOfAuthorization(deps.db, auth.authorizationId),
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
  const holding = [{ id: auth.authorizationId, nodes: ownNodes }, ...(await Promise.all(evicted.map(async (id) => ({ id, nodes: await nodesOfAuthorization(deps.db, id) }))))];
  const clearing = holding.filter((h) => h.nodes.length).flatMap((h) => deleteConfigsOfAuthorization(deps.db, h.id));
  const previousNodes = holding.flatMap((h) => h.nodes);

  const plan: Plan = { deps, auth, profile, clearing, previousNodes, replaced };
  const nodes = shuffled(serving, deps.random);
  for (const proto of order) {
    for (const node of nodes) {
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
  { deps, auth, profile, clearing, previousNodes, replaced }: Plan,
  node: Node,
  publicKey: string,
  { range4, range6, count, contenders }: { range4: Cidr; range6: Cidr; count: number; contenders: number },
): Promise<ConnectResult | null> {
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
    try {
      await applyNodeChange(
        deps.db,
        deps.notifier,
        [
          ...clearing,
          deps.db.kysely.insertInto('wg_peers').values({
            public_key: publicKey,
            profile_id: profile.id,
            node_id: node.node_id,
            user_id: auth.userId,
            authorization_id: auth.authorizationId,
            display_name: auth.clientId,
            ip_four: ip.ipFour,
            ip_six: ip.ipSix,
            created_at: deps.now,
            expires_at: auth.expiresAt,
          }),
        ],
        [...previousNodes, node.node_id],
        'connect',
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

async function connectOpenvpn({ deps, auth, profile, clearing, previousNodes }: Plan, node: Node, preferTcp: boolean): Promise<ConnectResult | null> {
  const ovpn = profile.openvpn;
  if (!ovpn) return null;
  const ca = await vpnCa(deps.config);
  const commonName = randomCommonName();
  const [cert, tlsCrypt] = await Promise.all([
    issueClientCertificate(ca, { commonName, profileId: profile.id, notAfter: new Date(auth.expiresAt) }),
    ensureTlsCryptKey(deps.db, profile.id, generateTlsCryptKey),
  ]);
  await applyNodeChange(
    deps.db,
    deps.notifier,
    [
      ...clearing,
      deps.db.kysely.insertInto('certificates').values({
        common_name: commonName,
        profile_id: profile.id,
        node_id: node.node_id,
        user_id: auth.userId,
        authorization_id: auth.authorizationId,
        display_name: auth.clientId,
        created_at: deps.now,
        expires_at: auth.expiresAt,
      }),
    ],
    [...previousNodes, node.node_id],
    'connect',
  );
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

/** POST /api/v3/disconnect: every config of this authorization goes; the nodes are told. */
export async function disconnectCommand(db: Db, notifier: NodeNotifier, auth: ApiAuth): Promise<void> {
  const nodes = await nodesOfAuthorization(db, auth.authorizationId);
  await applyNodeChange(db, notifier, deleteConfigsOfAuthorization(db, auth.authorizationId), nodes, 'disconnect');
}

export type { VpnProto };
