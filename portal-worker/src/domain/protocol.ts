import type { ProfileConfig } from './profile.ts';

export type VpnProto = 'wireguard' | 'openvpn';

export const MEDIA = {
  wireguard: 'application/x-wireguard-profile',
  wireguardTcp: 'application/x-wireguard+tcp-profile',
  openvpn: 'application/x-openvpn-profile',
} as const;

/**
 * What the client accepts, from `Accept` (docs/eduvpn.md §1.3): comma-separated, parameters ignored,
 * unknown types ignored; no recognised type means the client takes both.
 */
export function acceptedProtocols(accept: string | undefined): Set<VpnProto> {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase());
  const out = new Set<VpnProto>();
  if (types.includes(MEDIA.wireguard)) out.add('wireguard');
  if (types.includes(MEDIA.openvpn)) out.add('openvpn');
  return out.size ? out : new Set(['wireguard', 'openvpn']);
}

/** The upstream selection (docs/eduvpn.md §1.3 "Protocol selection"), as an ordered preference list. */
export function protocolOrder(profile: ProfileConfig, accepted: Set<VpnProto>, hasPublicKey: boolean, preferTcp: boolean): VpnProto[] {
  const common: VpnProto[] = [];
  if (accepted.has('wireguard') && hasPublicKey && profile.wireguard) common.push('wireguard');
  if (accepted.has('openvpn') && profile.openvpn) common.push('openvpn');
  if (common.length < 2) return common;
  const hasTcp = (profile.openvpn?.tcp_ports.length ?? 0) > 0;
  const first: VpnProto = preferTcp && hasTcp ? 'openvpn' : profile.preferred_proto;
  return first === 'openvpn' ? ['openvpn', 'wireguard'] : ['wireguard', 'openvpn'];
}
