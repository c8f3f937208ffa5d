/** A WireGuard config on one node: a free address in the node's range, committed and acked. */
import { isUniqueViolation } from '@edgeport/schema';
import { formatCidr, type Cidr } from '@edgeport/schema/ip';
import { AppError } from '../../core/errors.ts';
import { addPeerStatements, deleteExpiredPeers, holderOfKey, usedAddresses, withdrawPeerStatements } from '../../store/configs.ts';
import { candidateAt, candidateCount, indexOf } from '../../vpn/addresses.ts';
import { toCidr } from '../../vpn/prefix.ts';
import { wireguardClientConfig } from '../../vpn/wireguard-config.ts';
import type { ProfileConfig } from '../profile.ts';
import { MEDIA } from '../protocol.ts';
import { place, release } from './ack.ts';
import { endpointHost } from './endpoint.ts';
import type { ConnectResult, Plan, ServingNode, WireguardKeys } from './types.ts';

// Attempt n picks among the first 2^n free addresses: alone, a client gets the lowest free one
// (upstream's order); in a burst, contenders spread out instead of colliding round after round.
const ALLOCATION_ATTEMPTS = 10;
// Allocations under way in this isolate per (node, profile). Requests that run together here
// would all pick the same lowest address; spreading them over as many free addresses as there
// are contenders avoids most collisions before they happen (other isolates still retry).
const inFlight = new Map<string, number>();

export async function connectWireguard(plan: Plan, node: ServingNode, keys: WireguardKeys): Promise<ConnectResult | null> {
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
  node: ServingNode,
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
        addPeerStatements(deps.db, { ...peer, node_id: node.node_id, user_id: owner.userId, authorization_id: owner.authorizationId, display_name: owner.displayName, created_at: deps.now }),
        { op: 'peer_add', peer },
      );
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const holder = await holderOfKey(deps.db, publicKey);
      // A key held by another config (portal configs have no authorization to compare) is taken.
      if (holder && (owner.authorizationId === null || holder.authorization_id !== owner.authorizationId)) throw new AppError('conflict', 'this "public_key" is already in use');
      // Either another instance took the address first, or an expired peer still holds it (expired
      // peers do not count as used, and are cleared here, off the common path): look again.
      await deleteExpiredPeers(deps.db, node.node_id, profile.id, deps.now).execute();
      continue;
    }
    if (!acked) {
      // The node did not confirm in time: give the address back and let the caller try another node.
      await release(plan, node, withdrawPeerStatements(deps.db, publicKey), { op: 'peer_remove', public_key: publicKey });
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
