import { z } from 'zod';
import type { ProfileConfig, RangeInUse, WireguardOnNode } from '../core/profile-config.ts';

export type { ProfileConfig, RangeInUse, WireguardOnNode };
import type { FieldError } from '../core/errors.ts';
import { fieldErrors } from './validation.ts';
import { formatCidr, overlaps, parseCidr, parseIp, type Cidr } from '@edgeport/schema/ip';

const HOST = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const port = z.number().int().min(1).max(65535);
const ports = z.array(port).max(64, 'at most 64 ports');
const listOf = (item: z.ZodType<string>, max: number) => z.array(item).max(max).default([]);
const shortText = z.string().trim().min(1).max(255);

// `.strict()` everywhere: an unknown field is a typo the admin must hear about, not a silent no-op.
const ProfileBody = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lowercase letters, digits, ".", "_" and "-", at most 63, starting with a letter or digit'),
    display_name: shortText,
    host_name: z.string().refine((h) => HOST.test(h) || parseIp(h) !== null, 'must be a DNS name or an IP address'),
    default_gateway: z.boolean().default(true),
    dns_servers: listOf(z.string(), 16),
    dns_search_domains: listOf(z.string().regex(HOST, 'must be a DNS domain'), 16),
    routes: listOf(z.string(), 256),
    exclude_routes: listOf(z.string(), 256),
    acl_permissions: z.array(shortText).max(100).nullable().default(null),
    wireguard: z
      .object({ range_four: z.string(), range_six: z.string(), port: port.default(51820) })
      .strict()
      .nullable()
      .default(null),
    openvpn: z
      .object({ range_four: z.string(), range_six: z.string(), udp_ports: ports.default([1194]), tcp_ports: ports.default([1194]) })
      .strict()
      .nullable()
      .default(null),
    preferred_proto: z.enum(['openvpn', 'wireguard']).optional(),
  })
  .strict();

export type ProfileResult = { ok: true; profile: ProfileConfig } | { ok: false; errors: FieldError[] };

const POWERS_OF_TWO = new Set([1, 2, 4, 8, 16, 32, 64]);

/** What a profile's WireGuard port is checked against (see `wireguardPortErrors`). */
export interface WireguardPortContext {
  /** The other WireGuard profiles on the nodes serving this one (none for a new profile). */
  neighbours: readonly WireguardOnNode[];
  /** The port the stored profile already has, null if WireGuard was off (or it is new). */
  keptPort: number | null;
}

const NO_NODES: WireguardPortContext = { neighbours: [], keptPort: null };

/**
 * A node listens on one WireGuard port for all its WireGuard profiles (upstream eduVPN's one port
 * per node), so this profile's port must be that of every other WireGuard profile on its nodes:
 * else its clients would get an Endpoint port nobody listens on. One error per disagreeing node.
 * A port kept as it was changes nothing on any node, so it is not refused for a disagreement an
 * older database already holds (placement keeps such a node from handing out the wrong port).
 */
function wireguardPortErrors(port: number, { neighbours, keptPort }: WireguardPortContext): FieldError[] {
  const errors: FieldError[] = [];
  if (port === keptPort) return errors;
  const named = new Set<string>();
  for (const n of neighbours) {
    if (n.port === port || named.has(n.node_id)) continue;
    named.add(n.node_id);
    errors.push({ path: 'wireguard.port', message: `node "${n.node_id}" also serves profile "${n.profile_id}" on WireGuard port ${n.port}: a node listens on one WireGuard port` });
  }
  return errors;
}

/**
 * Parses and checks a profile. `taken` lists every range of other profiles and node
 * assignments, so overlaps across the whole service are refused (a client address must
 * identify one profile on one node). `ports` holds the WireGuard ports of the profiles sharing
 * a node with this one, which a new or changed WireGuard port here must match.
 */
export function validateProfile(input: unknown, taken: readonly RangeInUse[], ports: WireguardPortContext = NO_NODES): ProfileResult {
  const parsed = ProfileBody.safeParse(input);
  if (!parsed.success) {
    // A top-level unknown key is reported at its own name, so the admin sees which field to fix.
    return {
      ok: false,
      errors: fieldErrors(parsed.error).map((e, n) => {
        const issue = parsed.error.issues[n];
        return !e.path && issue?.code === 'unrecognized_keys' ? { ...e, path: issue.keys.join(',') } : e;
      }),
    };
  }
  const p = parsed.data;
  const errors: FieldError[] = [];
  const ranges: { path: string; cidr: Cidr }[] = [];

  const range = (path: string, text: string, family: 4 | 6, maxPrefix: number) => {
    const r = parseCidr(text);
    if (!r.ok) return void errors.push({ path, message: r.message });
    if (r.cidr.family !== family) return void errors.push({ path, message: `must be an IPv${family} prefix` });
    if (r.cidr.prefix > maxPrefix) return void errors.push({ path, message: `prefix /${r.cidr.prefix} is too small; use /${maxPrefix} or larger` });
    ranges.push({ path, cidr: r.cidr });
    return r.cidr;
  };

  if (!p.wireguard && !p.openvpn) errors.push({ path: 'wireguard', message: 'enable WireGuard, OpenVPN or both' });

  if (p.wireguard) {
    // Network, gateway and broadcast are not handed out, so a /30 leaves one client.
    const v4 = range('wireguard.range_four', p.wireguard.range_four, 4, 30);
    const v6 = range('wireguard.range_six', p.wireguard.range_six, 6, 126);
    // IPv6 addresses are paired with IPv4 ones by index (docs/eduvpn.md §2.5): the v6 range must be at least as large.
    if (v4 && v6 && 128 - v6.prefix < 32 - v4.prefix) {
      errors.push({ path: 'wireguard.range_six', message: 'must hold at least as many addresses as range_four' });
    }
    errors.push(...wireguardPortErrors(p.wireguard.port, ports));
  }

  if (p.openvpn) {
    const count = p.openvpn.udp_ports.length + p.openvpn.tcp_ports.length;
    if (!POWERS_OF_TWO.has(count)) {
      errors.push({ path: 'openvpn', message: `UDP plus TCP ports must number 1, 2, 4, 8, 16, 32 or 64 (one OpenVPN process each); got ${count}` });
    }
    for (const [name, list] of [
      ['udp_ports', p.openvpn.udp_ports],
      ['tcp_ports', p.openvpn.tcp_ports],
    ] as const) {
      if (new Set(list).size !== list.length) errors.push({ path: `openvpn.${name}`, message: 'contains a port twice' });
    }
    // Each process gets range_four split by the process count, and at least a /29 of its own.
    const split = POWERS_OF_TWO.has(count) ? Math.log2(count) : 0;
    range('openvpn.range_four', p.openvpn.range_four, 4, 29 - split);
    // Each process gets a /112 of range_six (docs/eduvpn.md §2.3).
    range('openvpn.range_six', p.openvpn.range_six, 6, 112 - split);
  }

  ranges.forEach((a, i) => {
    for (const b of ranges.slice(i + 1)) {
      if (overlaps(a.cidr, b.cidr)) errors.push({ path: b.path, message: `overlaps ${a.path} (${formatCidr(a.cidr)})` });
    }
    for (const t of taken) {
      const other = parseCidr(t.cidr);
      if (other.ok && overlaps(a.cidr, other.cidr)) errors.push({ path: a.path, message: `overlaps ${t.cidr} used by ${t.owner}` });
    }
  });

  p.dns_servers.forEach((d, i) => {
    if (d !== '@GW4@' && d !== '@GW6@' && !parseIp(d)) errors.push({ path: `dns_servers.${i}`, message: `"${d}" is not an IP address (or @GW4@/@GW6@)` });
  });
  for (const key of ['routes', 'exclude_routes'] as const) {
    p[key].forEach((r, i) => {
      const c = parseCidr(r);
      if (!c.ok) errors.push({ path: `${key}.${i}`, message: c.message });
    });
  }

  const enabled = [...(p.openvpn ? ['openvpn'] : []), ...(p.wireguard ? ['wireguard'] : [])] as ('openvpn' | 'wireguard')[];
  // Upstream's default when both are enabled is OpenVPN (docs/eduvpn.md §1.3, protocol selection).
  const preferred = p.preferred_proto ?? enabled[0] ?? 'openvpn';
  if (enabled.length && !enabled.includes(preferred)) {
    errors.push({ path: 'preferred_proto', message: `"${preferred}" is not enabled on this profile` });
  }

  if (errors.length) return { ok: false, errors };
  return { ok: true, profile: { ...p, preferred_proto: preferred } };
}
