/** Which node gets the config: the protocols in order, the nodes shuffled, each health-checked. */
import { nodeWireguardPort } from '@edgeport/schema';
import type { Db } from '../../core/db.ts';
import { AppError } from '../../core/errors.ts';
import { wireguardOnNodesOf } from '../../store/profiles.ts';
import type { ProfileConfig } from '../profile.ts';
import { connectOpenvpn } from './openvpn.ts';
import type { Clearing, ConfigOwner, Placed, PlacementDeps, PlacementRequest, Plan, ServingNode } from './types.ts';
import { connectWireguard } from './wireguard.ts';

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
