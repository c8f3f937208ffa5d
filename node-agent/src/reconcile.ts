import { nodeWireguardPort, type DesiredConfig } from '@edgeport/schema';
import { formatIp, parseCidr } from '@edgeport/schema/ip';
import type { WireguardInterfaceSpec, WireguardObserved, WireguardPeerSpec } from './backends/types.ts';

export type Action =
  | { kind: 'wg_interface'; spec: WireguardInterfaceSpec }
  | { kind: 'wg_peers'; upsert: WireguardPeerSpec[]; remove: string[] }
  | { kind: 'ovpn_allowed'; allowed: Map<string, string> };

export interface Observed {
  wireguard: WireguardObserved | null;
}

/** First host of a range with its prefix, e.g. 10.43.43.0/24 → 10.43.43.1/24: the node's own address there. */
export function gatewayOf(range: string): string {
  const r = parseCidr(range);
  if (!r.ok) throw new Error(`bad range from the portal: ${r.message}`);
  return `${formatIp(r.cidr.family, r.cidr.network + 1n)}/${r.cidr.prefix}`;
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join() === [...b].sort().join();

/** The WireGuard interface this config needs: one per node for every WireGuard profile. */
export function wireguardSpec(desired: DesiredConfig, name: string): WireguardInterfaceSpec | null {
  const wg = desired.profiles.flatMap((p) => (p.wireguard ? [{ id: p.id, ...p.wireguard }] : []));
  // One interface, so one listen port per node (docs/eduvpn.md §2.3): the portal refuses WireGuard
  // profiles with different ports on one node. Should an older database still hold such a pair,
  // the shared rule picks the port (lowest profile id), and the portal, using the same rule,
  // places no client of the other profile here, so no config names a port nobody listens on.
  const listen = nodeWireguardPort(wg);
  if (!listen) return null;
  return {
    name,
    listenPort: listen.port,
    addresses: wg.flatMap((p) => [gatewayOf(p.range_four), gatewayOf(p.range_six)]),
  };
}

/**
 * Pure: what to do so the machine matches the desired config. Expired peers and certificates
 * are left out here, so expiry works on the node even while the portal is away.
 */
export function reconcile(desired: DesiredConfig, observed: Observed, now: number, wgInterface: string): Action[] {
  const actions: Action[] = [];
  const spec = wireguardSpec(desired, wgInterface);
  const wgProfiles = new Set(desired.profiles.filter((p) => p.wireguard).map((p) => p.id));
  if (spec) {
    const o = observed.wireguard;
    if (!o?.exists || o.listenPort !== spec.listenPort || !sameSet(o.addresses, spec.addresses)) actions.push({ kind: 'wg_interface', spec });
    const want = new Map(desired.peers.filter((p) => p.expires_at > now && wgProfiles.has(p.profile_id)).map((p): [string, string[]] => [p.public_key, [`${p.ip_four}/32`, `${p.ip_six}/128`]]));
    const have = o?.exists ? o.peers : new Map();
    const upsert: WireguardPeerSpec[] = [];
    for (const [publicKey, allowedIps] of want) {
      const current = have.get(publicKey);
      if (!current || !sameSet(current.allowedIps, allowedIps)) upsert.push({ publicKey, allowedIps });
    }
    const remove = [...have.keys()].filter((k) => !want.has(k));
    if (upsert.length || remove.length) actions.push({ kind: 'wg_peers', upsert, remove });
  } else if (observed.wireguard?.exists && observed.wireguard.peers.size) {
    // No WireGuard profile left on this node: nobody may stay connected through it.
    actions.push({ kind: 'wg_peers', upsert: [], remove: [...observed.wireguard.peers.keys()] });
  }
  const ovpnProfiles = new Set(desired.profiles.filter((p) => p.openvpn).map((p) => p.id));
  actions.push({
    kind: 'ovpn_allowed',
    allowed: new Map(desired.certificates.filter((c) => c.expires_at > now && ovpnProfiles.has(c.profile_id)).map((c) => [c.common_name, c.profile_id])),
  });
  return actions;
}
