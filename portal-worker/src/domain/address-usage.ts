import { size } from '@edgeport/schema/ip';
import type { Db } from '../core/db.ts';
import type { ProfileConfig } from '../core/profile-config.ts';
import { usageKey, usageRows } from '../store/address-usage.ts';
import { candidateCount } from '../vpn/addresses.ts';
import { toCidr } from '../vpn/prefix.ts';

export interface WireguardUsage {
  range_four: string;
  /** false: the node uses the profile's own range. */
  own: boolean;
  capacity: number;
  used: number;
  free: number;
  /** A node whose WireGuard key is unknown gets no WireGuard clients (connect skips it). */
  key_known: boolean;
}

/**
 * OpenVPN addresses are leased by the node's OpenVPN servers at connect time, so the portal
 * knows the pool's size and how many certificates could use it, not which addresses are taken.
 */
export interface OpenvpnUsage {
  range_four: string;
  own: boolean;
  capacity: number;
  certificates: number;
}

export interface NodeUsage {
  node_id: string;
  revoked: boolean;
  wireguard: WireguardUsage | null;
  openvpn: OpenvpnUsage | null;
}

/** docs/eduvpn.md §2.4: each OpenVPN process (one per port) loses network, gateway and broadcast of its slice. */
function openvpnCapacity(range4: string, processes: number): number {
  return Math.max(0, Number(size(toCidr(range4))) - 3 * processes);
}

/**
 * Per profile, the nodes assigned to it with the address room each has: the node's own range or,
 * when it has none, the profile's (as /connect allocates). Unexpired configurations count as
 * used whether or not their tunnel is up: the address is reserved for the whole session.
 */
export async function addressUsage(db: Db, profiles: ProfileConfig[], now: number, onlyProfile?: string): Promise<Map<string, NodeUsage[]>> {
  const { rows, peers, certs } = await usageRows(db, now, onlyProfile);
  const byId = new Map(profiles.map((p) => [p.id, p]));
  const out = new Map<string, NodeUsage[]>();
  for (const r of rows) {
    const profile = byId.get(r.profile_id);
    if (!profile) continue;
    const k = usageKey(r.node_id, r.profile_id);
    let wireguard: WireguardUsage | null = null;
    if (profile.wireguard) {
      const range4 = r.wg_range_four ?? profile.wireguard.range_four;
      const capacity = candidateCount(range4);
      const used = peers.get(k) ?? 0;
      wireguard = { range_four: range4, own: r.wg_range_four !== null, capacity, used, free: Math.max(0, capacity - used), key_known: r.wg_public_key !== null };
    }
    let openvpn: OpenvpnUsage | null = null;
    if (profile.openvpn) {
      const range4 = r.ovpn_range_four ?? profile.openvpn.range_four;
      const processes = profile.openvpn.udp_ports.length + profile.openvpn.tcp_ports.length;
      openvpn = { range_four: range4, own: r.ovpn_range_four !== null, capacity: openvpnCapacity(range4, processes), certificates: certs.get(k) ?? 0 };
    }
    const list = out.get(r.profile_id) ?? [];
    list.push({ node_id: r.node_id, revoked: r.revoked_at !== null, wireguard, openvpn });
    out.set(r.profile_id, list);
  }
  return out;
}
