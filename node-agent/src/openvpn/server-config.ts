/**
 * The OpenVPN server processes of one profile on this node (docs/eduvpn.md §2.3): one process per port,
 * UDP ports first, each with an equal slice of the profile's ranges. Pure: the same profile and
 * options always give the same text, so the backend can restart exactly the processes whose
 * text changed.
 */
import type { ProfileOnNode } from '@edgeport/schema';
import { formatCidr, formatIp, parseCidr, type Cidr } from '@edgeport/schema/ip';
import type { OpenvpnProcessSpec } from '../backends/types.ts';

export interface ServerConfigOptions {
  /** The tun number of this profile's first process; tun names are global on the node. */
  firstTun: number;
  /** The portal's VPN CA (PEM). */
  caCert: string;
  /** The node's server certificate for this profile (PEM; CN = node, OU = profile). */
  serverCert: string;
  /** The node's private key: referenced by path so that 0600 file stays its only copy. */
  serverKeyPath: string;
  /** Where the management sockets live. */
  runDir: string;
  /** AES-GCM first on CPUs with AES-NI, ChaCha20 first otherwise (§2.3). */
  preferAes: boolean;
  user?: string;
  group?: string;
  /** The address to bind; without it the processes listen dual-stack on `::`. */
  listenOn?: string;
}

// 1 to 64 processes (§2.3): the ranges split evenly only by a power of two.
const ALLOWED_COUNTS = new Set([1, 2, 4, 8, 16, 32, 64]);
// `server` needs room for network, server, one client and broadcast.
const MAX_V4_PREFIX = 29;
const V6_PREFIX = 112;

function cidr(text: string, what: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new RangeError(`${what}: ${r.message}`);
  return r.cidr;
}

function netmask(prefix: number): string {
  const mask = prefix === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n);
  return formatIp(4, mask);
}

/** `push "route …"` for an IPv4 prefix, `push "route-ipv6 …"` for an IPv6 one. */
function pushRoute(text: string, exclude: boolean): string {
  const c = cidr(text, exclude ? 'excluded route' : 'route');
  if (c.family === 4) return `push "route ${formatIp(4, c.network)} ${netmask(c.prefix)}${exclude ? ' net_gateway' : ''}"`;
  return `push "route-ipv6 ${formatCidr(c)}${exclude ? ' net_gateway_ipv6' : ''}"`;
}

const inline = (tag: string, body: string) => [`<${tag}>`, body.trim(), `</${tag}>`];

interface Slice {
  four: Cidr;
  six: Cidr;
}

/** The n-th of `count` equal v4 slices and the n-th /112 of the v6 range (§2.3). */
function slices(rangeFour: string, rangeSix: string, count: number): Slice[] {
  const four = cidr(rangeFour, 'openvpn range_four');
  const six = cidr(rangeSix, 'openvpn range_six');
  if (four.family !== 4) throw new RangeError(`openvpn range_four "${rangeFour}" is not IPv4`);
  if (six.family !== 6) throw new RangeError(`openvpn range_six "${rangeSix}" is not IPv6`);
  const bits = Math.log2(count);
  const prefix = four.prefix + bits;
  if (prefix > MAX_V4_PREFIX) throw new RangeError(`openvpn range_four ${rangeFour} is too small for ${count} processes (each needs at least a /${MAX_V4_PREFIX})`);
  if (six.prefix + bits > V6_PREFIX) throw new RangeError(`openvpn range_six ${rangeSix} cannot hold ${count} /${V6_PREFIX} prefixes`);
  return Array.from({ length: count }, (_, i) => ({
    four: { family: 4, network: four.network + BigInt(i) * (1n << BigInt(32 - prefix)), prefix },
    six: { family: 6, network: six.network + BigInt(i) * (1n << BigInt(128 - V6_PREFIX)), prefix: V6_PREFIX },
  }));
}

/**
 * DNS and route pushes. `@GW4@`/`@GW6@` stand for the server's own address in the client's range,
 * i.e. a resolver on the node (the same placeholders as in WireGuard configs, docs/eduvpn.md §2.1).
 */
function pushes(profile: ProfileOnNode, slice: Slice): string[] {
  const lines: string[] = [];
  if (profile.default_gateway) {
    lines.push('push "redirect-gateway def1 ipv6"');
    // Windows clients need an explicit default route besides def1's two /1 routes (§2.3).
    lines.push('push "route 0.0.0.0 0.0.0.0"');
  }
  for (const r of profile.routes) lines.push(pushRoute(r, false));
  for (const r of profile.exclude_routes) lines.push(pushRoute(r, true));
  // A split-tunnel profile without search domains must not take over the client's resolver (§2.3).
  if (profile.default_gateway || profile.dns_search_domains.length > 0) {
    const gw4 = formatIp(4, slice.four.network + 1n);
    const gw6 = formatIp(6, slice.six.network + 1n);
    const servers = profile.dns_servers.map((s) => s.replaceAll('@GW4@', gw4).replaceAll('@GW6@', gw6));
    for (const s of servers) lines.push(`push "dhcp-option DNS ${s}"`);
    if (profile.default_gateway && servers.length > 0) lines.push('push "block-outside-dns"');
  }
  for (const d of profile.dns_search_domains) lines.push(`push "dhcp-option DOMAIN-SEARCH ${d}"`);
  return lines;
}

/** The profile's processes, named `<profileId>-<n>`; none for a profile without OpenVPN. */
export function serverProcesses(profile: ProfileOnNode, opts: ServerConfigOptions): OpenvpnProcessSpec[] {
  const ovpn = profile.openvpn;
  if (!ovpn) return [];
  const ports = [...ovpn.udp_ports.map((port) => ({ port, tcp: false })), ...ovpn.tcp_ports.map((port) => ({ port, tcp: true }))];
  if (ports.length === 0) return [];
  if (!ALLOWED_COUNTS.has(ports.length)) {
    throw new RangeError(`profile "${profile.id}" has ${ports.length} OpenVPN ports; the count must be 1, 2, 4, 8, 16, 32 or 64`);
  }
  const ranges = slices(ovpn.range_four, ovpn.range_six, ports.length);
  // An IPv6 socket on `::` also takes IPv4 (dual-stack), so the default serves both families.
  const v6Socket = opts.listenOn === undefined || opts.listenOn.includes(':');
  const dataCiphers = opts.preferAes ? 'AES-256-GCM:CHACHA20-POLY1305' : 'CHACHA20-POLY1305:AES-256-GCM';

  return ports.map(({ port, tcp }, n) => {
    const name = `${profile.id}-${n}`;
    const slice = ranges[n] as Slice;
    const proto = `${tcp ? 'tcp' : 'udp'}${v6Socket ? '6' : ''}${tcp ? '-server' : ''}`;
    const lines = [
      `# ${name}: written by the node agent from profile "${profile.id}"; changes here are overwritten`,
      'verb 3',
      'dev-type tun',
      `dev tun${opts.firstTun + n}`,
      ...(opts.user ? [`user ${opts.user}`] : []),
      ...(opts.group ? [`group ${opts.group}`] : []),
      'topology subnet',
      'persist-key',
      'persist-tun',
      'remote-cert-tls client',
      'dh none',
      'tls-version-min 1.3',
      `data-ciphers ${dataCiphers}`,
      'keepalive 10 60',
      'reneg-sec 36000',
      `proto ${proto}`,
      ...(opts.listenOn !== undefined ? [`local ${opts.listenOn}`] : []),
      `port ${port}`,
      `server ${formatIp(4, slice.four.network)} ${netmask(slice.four.prefix)}`,
      `server-ipv6 ${formatCidr(slice.six)}`,
      // Network, broadcast and the server's own address are not for clients (docs/eduvpn.md §2.4).
      `max-clients ${2 ** (32 - slice.four.prefix) - 3}`,
      // Admission is answered by the agent on this socket (no client-connect scripts), so it keeps
      // working while the portal is unreachable.
      `management ${opts.runDir}/${name}.sock unix`,
      // Held until the agent is on the socket and says `hold release`: OpenVPN does not replay a
      // `>CLIENT:CONNECT` sent while no manager was connected, so a client arriving before the agent
      // would wait out its whole hand-window (60 s) for an answer.
      'management-hold',
      'management-client-auth',
      // Clients authenticate by certificate only. Without this, a server with management-client-auth
      // drops them with "Auth Username/Password was not provided by peer" before asking the agent.
      // The username they may send is ignored: admission reads the certificate's CN and OU, and
      // `username-as-common-name` is deliberately absent.
      'auth-user-pass-optional',
      ...(tcp ? ['tcp-nodelay'] : ['explicit-exit-notify 1', 'push "explicit-exit-notify 1"']),
      ...pushes(profile, slice),
      `key ${opts.serverKeyPath}`,
      ...inline('ca', opts.caCert),
      ...inline('cert', opts.serverCert),
      ...inline('tls-crypt', ovpn.tls_crypt_key),
    ];
    return { name, profileId: profile.id, config: `${lines.join('\n')}\n` };
  });
}
