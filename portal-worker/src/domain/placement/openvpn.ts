/** An OpenVPN config on one node: a client certificate from the portal's CA, committed and acked. */
import { ensureTlsCryptKey } from '../../store/profiles.ts';
import { addCertificateStatements, withdrawCertificateStatements } from '../../store/configs.ts';
import { issueClientCertificate, randomCommonName } from '../../vpn/ca.ts';
import { generateTlsCryptKey, openvpnClientConfig } from '../../vpn/openvpn-config.ts';
import { MEDIA } from '../protocol.ts';
import { vpnCa } from '../vpn-ca.ts';
import { place, release } from './ack.ts';
import { endpointHost } from './endpoint.ts';
import type { ConnectResult, Plan, ServingNode } from './types.ts';

export async function connectOpenvpn(plan: Plan, node: ServingNode, preferTcp: boolean): Promise<ConnectResult | null> {
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
    addCertificateStatements(deps.db, { ...certificate, node_id: node.node_id, user_id: owner.userId, authorization_id: owner.authorizationId, display_name: owner.displayName, created_at: deps.now }),
    { op: 'cert_add', certificate },
  );
  if (!acked) {
    await release(plan, node, withdrawCertificateStatements(deps.db, commonName), { op: 'cert_remove', common_name: commonName });
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
