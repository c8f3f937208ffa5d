// The first run's default profile: private ranges that clash with none of this machine's own
// networks, and the host name the users' devices reach. Plain Node: runs before anything else.
import { spawnSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { hostname } from 'node:os';

/** `ip -j …` as data; [] when ip is missing or fails (the caller then has nothing to avoid). */
function ipJson(args) {
  const r = spawnSync('ip', ['-j', ...args], { encoding: 'utf8' });
  if (r.status !== 0) return [];
  try {
    return JSON.parse(r.stdout || '[]');
  } catch {
    return [];
  }
}

const toInt = (ip) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);

/** Every IPv4 prefix this machine has on an interface or in a route: what a new range must not touch. */
export function machinePrefixes() {
  const out = [];
  for (const link of ipJson(['-4', 'address'])) for (const a of link.addr_info ?? []) out.push(`${a.local}/${a.prefixlen}`);
  for (const r of ipJson(['-4', 'route', 'show', 'table', 'all'])) if (r.dst && r.dst !== 'default' && /^\d+\.\d+\.\d+\.\d+/.test(r.dst)) out.push(r.dst.includes('/') ? r.dst : `${r.dst}/32`);
  return out;
}

function overlaps(a, b) {
  const [ai, ap] = a.split('/');
  const [bi, bp] = b.split('/');
  const p = Math.min(Number(ap), Number(bp));
  const mask = p === 0 ? 0 : (2 ** 32 - 2 ** (32 - p)) >>> 0;
  return (toInt(ai) & mask) >>> 0 === (toInt(bi) & mask) >>> 0;
}

/**
 * Two /24s under 10.0.0.0/8 (one for WireGuard, one for OpenVPN) overlapping nothing in `taken`,
 * picked at random so two quick starts on one network rarely agree; and two ULA /64s from one
 * random RFC 4193 global id.
 */
export function chooseRanges(taken = machinePrefixes()) {
  const free = () => {
    for (let i = 0; i < 1000; i++) {
      const cidr = `10.${randomInt(16, 250)}.${randomInt(0, 256)}.0/24`;
      if (!taken.some((t) => overlaps(cidr, t))) {
        taken = [...taken, cidr];
        return cidr;
      }
    }
    throw new Error('no free /24 under 10.0.0.0/8 on this machine');
  };
  const g = randomBytes(5).toString('hex');
  const group = (hex) => parseInt(hex, 16).toString(16);
  const ula = `fd${g.slice(0, 2)}:${group(g.slice(2, 6))}:${group(g.slice(6, 10))}`;
  return { wireguard: { range_four: free(), range_six: `${ula}:1::/64` }, openvpn: { range_four: free(), range_six: `${ula}:2::/64` } };
}

/**
 * Where the users' devices reach this machine: EDGEPORT_HOST if set; else the first IPv4 address
 * of the interface the default route leaves by (no packet is sent to find it); else the host name.
 */
export function publicHost(env = process.env) {
  if (env.EDGEPORT_HOST) return env.EDGEPORT_HOST;
  const dev = ipJson(['-4', 'route', 'show', 'default'])[0]?.dev;
  const address = dev ? ipJson(['-4', 'address', 'show', 'dev', dev])[0]?.addr_info?.[0]?.local : undefined;
  return address ?? hostname();
}

/**
 * The profile an app can connect to right away. Split tunnel: the node does not route or NAT
 * the users' other traffic, so a full tunnel (default gateway) would cut their internet until the
 * admin sets that up on the node (infra/README.md, "Full tunnel").
 */
export function defaultProfile(host, ranges = chooseRanges()) {
  return {
    id: 'default',
    display_name: 'Default',
    host_name: host,
    default_gateway: false,
    wireguard: { ...ranges.wireguard, port: 51820 },
    openvpn: { ...ranges.openvpn, udp_ports: [1194], tcp_ports: [1194] },
  };
}
