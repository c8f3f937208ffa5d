import type { DesiredConfig, ProfileOnNode } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import { generateTlsCryptKey } from '../vpn/openvpn-config.ts';
import { liveCertificatesOn, livePeersOn } from '../store/configs.ts';
import { assignedProfilesOf } from '../store/nodes.ts';
import { ensureTlsCryptKey, fromRow } from '../store/profiles.ts';

/**
 * Everything one node must run, read from the database: the profiles it serves with its own
 * ranges, the live peers and certificates placed on it, and the CA for its OpenVPN servers.
 * This is what a snapshot carries; deltas are changes to it.
 */
export async function desiredConfigFor(db: Db, nodeId: string, revision: number, caCert: string | null, now: number): Promise<DesiredConfig> {
  const [assignments, peers, certs] = await Promise.all([assignedProfilesOf(db, nodeId), livePeersOn(db, nodeId, now), liveCertificatesOn(db, nodeId, now)]);
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
