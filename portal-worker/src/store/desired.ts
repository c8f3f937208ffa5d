import type { DesiredConfig, ProfileOnNode } from '@edgeport/schema';
import type { Db } from '../db/types.ts';
import { generateTlsCryptKey } from '../vpn/openvpn-config.ts';
import { ensureTlsCryptKey, fromRow } from './profiles.ts';

/**
 * Everything one node must run, read from the database: the profiles it serves with its own
 * ranges, the live peers and certificates placed on it, and the CA for its OpenVPN servers.
 * This is what a snapshot carries; deltas are changes to it.
 */
export async function desiredConfigFor(db: Db, nodeId: string, revision: number, caCert: string | null, now: number): Promise<DesiredConfig> {
  const [assignments, peers, certs] = await Promise.all([
    db.kysely
      .selectFrom('node_profiles')
      .innerJoin('profiles', 'profiles.id', 'node_profiles.profile_id')
      .selectAll('profiles')
      .select(['node_profiles.wg_range_four as n_wg4', 'node_profiles.wg_range_six as n_wg6', 'node_profiles.ovpn_range_four as n_ov4', 'node_profiles.ovpn_range_six as n_ov6'])
      .where('node_profiles.node_id', '=', nodeId)
      .orderBy('profiles.id')
      .execute(),
    db.kysely.selectFrom('wg_peers').select(['public_key', 'profile_id', 'ip_four', 'ip_six', 'expires_at']).where('node_id', '=', nodeId).where('expires_at', '>', now).execute(),
    db.kysely.selectFrom('certificates').select(['common_name', 'profile_id', 'expires_at']).where('node_id', '=', nodeId).where('expires_at', '>', now).execute(),
  ]);
  const profiles: ProfileOnNode[] = [];
  for (const row of assignments) {
    const p = fromRow(row);
    profiles.push({
      id: p.id,
      display_name: p.display_name,
      default_gateway: p.default_gateway,
      dns_servers: p.dns_servers,
      dns_search_domains: p.dns_search_domains,
      routes: p.routes,
      exclude_routes: p.exclude_routes,
      wireguard: p.wireguard ? { range_four: row.n_wg4 ?? p.wireguard.range_four, range_six: row.n_wg6 ?? p.wireguard.range_six, port: p.wireguard.port } : null,
      openvpn: p.openvpn
        ? {
            range_four: row.n_ov4 ?? p.openvpn.range_four,
            range_six: row.n_ov6 ?? p.openvpn.range_six,
            udp_ports: p.openvpn.udp_ports,
            tcp_ports: p.openvpn.tcp_ports,
            tls_crypt_key: await ensureTlsCryptKey(db, p.id, generateTlsCryptKey),
          }
        : null,
    });
  }
  return {
    node_id: nodeId,
    revision,
    ca_cert: profiles.some((p) => p.openvpn) ? caCert : null,
    profiles,
    peers,
    certificates: certs,
  };
}
