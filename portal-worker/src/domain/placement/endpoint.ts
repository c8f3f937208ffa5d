import type { ProfileConfig } from '../profile.ts';
import type { ServingNode } from './types.ts';

/**
 * Where clients of this profile reach this node: the assignment's own host name if set; else the
 * profile's host name for the node that carries the profile's own ranges (the single-server
 * shape, where the profile's name is the service's name); else the node's host name.
 */
export function endpointHost(profile: ProfileConfig, node: ServingNode, proto: 'wireguard' | 'openvpn'): string {
  if (node.host_name) return node.host_name;
  const inherits = proto === 'wireguard' ? node.wg_range_four === null : node.ovpn_range_four === null;
  return inherits ? profile.host_name : node.node_host;
}
