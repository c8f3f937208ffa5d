/** The service configuration of one VPN profile, as the admin API speaks it. */
export interface ProfileConfig {
  id: string;
  display_name: string;
  host_name: string;
  default_gateway: boolean;
  dns_servers: string[];
  dns_search_domains: string[];
  routes: string[];
  exclude_routes: string[];
  acl_permissions: string[] | null;
  wireguard: { range_four: string; range_six: string; port: number } | null;
  openvpn: { range_four: string; range_six: string; udp_ports: number[]; tcp_ports: number[] } | null;
  preferred_proto: 'openvpn' | 'wireguard';
}

/** A range already in use elsewhere, so a new profile cannot take an overlapping one. */
export interface RangeInUse {
  owner: string;
  cidr: string;
}

/** A WireGuard profile served by a node, with the port its clients' configs name. */
export interface WireguardOnNode {
  node_id: string;
  profile_id: string;
  port: number;
}
