/**
 * The WireGuard client configuration, line for line as docs/eduvpn.md §2.1. The apps (eduvpn-common)
 * read the comment header and rewrite the file, so order and spelling are part of the wire format.
 */
import type { ProfileConfig } from '../core/profile-config.ts';
import { formatCidr, parseIp } from '@edgeport/schema/ip';
import { gatewayAddresses, type Range } from './addresses.ts';
import { subtractPrefixes, toCidr } from './prefix.ts';

/** ATOM (PHP `DateTimeInterface::ATOM`) in UTC, as upstream prints it: 2021-08-06T03:59:59+00:00. */
export function atomTimestamp(when: Date): string {
  return `${when.toISOString().slice(0, 19)}+00:00`;
}

/** The three comment lines both protocols start with. */
export function configHeader(portalUrl: string, profile: Pick<ProfileConfig, 'id' | 'display_name'>, expiresAt: Date): string[] {
  return [`# Portal: ${portalUrl}`, `# Profile: ${profile.display_name} (${profile.id})`, `# Expires: ${atomTimestamp(expiresAt)}`];
}

/** `host:port`, with IPv6 literals in brackets so the port is not read as another group. */
export function endpoint(host: string, port: number): string {
  return parseIp(host)?.family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

export type WireguardProfile = Pick<ProfileConfig, 'id' | 'display_name' | 'default_gateway' | 'dns_servers' | 'dns_search_domains' | 'routes' | 'exclude_routes'>;

export interface WireguardClientInput {
  portalUrl: string;
  profile: WireguardProfile;
  /** The authorization's expiry, the same instant as the `Expires` header. */
  expiresAt: Date;
  /** This node's WireGuard ranges for the profile (docs/eduvpn.md §2.4: every node has its own). */
  rangeFour: Range;
  rangeSix: Range;
  /** The client's allocated pair (from addresses.ts). */
  ipFour: string;
  ipSix: string;
  /** Only for portal downloads; API clients insert their own key (docs/eduvpn.md §1.3). */
  privateKey?: string;
  nodePublicKey: string;
  /** The node's host name and the WireGuard listen port. */
  host: string;
  port: number;
}

/**
 * `AllowedIPs`: (everything if default gateway) ∪ routes ∪ the client's own networks, minus the
 * exclude routes. Own networks are included so the gateway (first host) stays reachable for the
 * apps' UDP→TCP fail-over ping even on split-tunnel profiles.
 */
export function allowedIps(profile: WireguardProfile, rangeFour: Range, rangeSix: Range): string[] {
  const own = [rangeFour, rangeSix].map((r) => (typeof r === 'string' ? toCidr(r) : r));
  const include = [...(profile.default_gateway ? [toCidr('0.0.0.0/0'), toCidr('::/0')] : []), ...profile.routes.map(toCidr), ...own];
  return subtractPrefixes(include, profile.exclude_routes.map(toCidr)).map(formatCidr);
}

/** DNS servers (with @GW4@/@GW6@ replaced) then search domains; empty when DNS is not pushed. */
function dnsEntries(p: WireguardProfile, rangeFour: Range, rangeSix: Range): string[] {
  // Without a default route a resolver would only be reachable through routes, and would hijack
  // all name resolution; upstream pushes DNS only with default gateway or search domains.
  if (!p.default_gateway && p.dns_search_domains.length === 0) return [];
  const gw = gatewayAddresses(rangeFour, rangeSix);
  const servers = p.dns_servers.map((s) => (s === '@GW4@' ? gw.ipFour : s === '@GW6@' ? gw.ipSix : s));
  return [...servers, ...p.dns_search_domains];
}

export function wireguardClientConfig(input: WireguardClientInput): string {
  const { profile, rangeFour, rangeSix } = input;
  const prefixFour = (typeof rangeFour === 'string' ? toCidr(rangeFour) : rangeFour).prefix;
  const prefixSix = (typeof rangeSix === 'string' ? toCidr(rangeSix) : rangeSix).prefix;
  const dns = dnsEntries(profile, rangeFour, rangeSix);
  const lines = [
    ...configHeader(input.portalUrl, profile, input.expiresAt),
    '',
    '[Interface]',
    ...(input.privateKey ? [`PrivateKey = ${input.privateKey}`] : []),
    `Address = ${input.ipFour}/${prefixFour},${input.ipSix}/${prefixSix}`,
    ...(dns.length ? [`DNS = ${dns.join(',')}`] : []),
    '',
    '[Peer]',
    `PublicKey = ${input.nodePublicKey}`,
    `AllowedIPs = ${allowedIps(profile, rangeFour, rangeSix).join(',')}`,
    `Endpoint = ${endpoint(input.host, input.port)}`,
  ];
  return `${lines.join('\n')}\n`;
}
