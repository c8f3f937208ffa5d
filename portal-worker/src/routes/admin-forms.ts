import type { ProfileFormValues } from '../views/admin-profiles.tsx';

const list = (s: string | undefined) =>
  (s ?? '')
    .split(/[,\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** A form-typed number that is not a number stays a string, so validation names the field. */
const num = (s: string) => (/^\d+$/.test(s.trim()) ? Number(s.trim()) : s);

/** Turns the admin form into the same body the JSON API takes: one validation for both. */
export function profileInputFromForm(v: ProfileFormValues): Record<string, unknown> {
  const acl = list(v.acl_permissions);
  return {
    id: (v.id ?? '').trim(),
    display_name: v.display_name ?? '',
    host_name: (v.host_name ?? '').trim(),
    default_gateway: Boolean(v.default_gateway),
    dns_servers: list(v.dns_servers),
    dns_search_domains: list(v.dns_search_domains),
    routes: list(v.routes),
    exclude_routes: list(v.exclude_routes),
    acl_permissions: acl.length ? acl : null,
    wireguard: v.wg_enabled ? { range_four: (v.wg_range_four ?? '').trim(), range_six: (v.wg_range_six ?? '').trim(), port: num(v.wg_port ?? '51820') } : null,
    openvpn: v.ovpn_enabled
      ? {
          range_four: (v.ovpn_range_four ?? '').trim(),
          range_six: (v.ovpn_range_six ?? '').trim(),
          udp_ports: list(v.ovpn_udp_ports).map(num),
          tcp_ports: list(v.ovpn_tcp_ports).map(num),
        }
      : null,
    // The select only means something with both protocols on: a WireGuard-only profile made on
    // the page was refused for the select's default, "OpenVPN preferred" (found by the journey tier).
    ...(v.wg_enabled && v.ovpn_enabled ? { preferred_proto: v.preferred_proto === 'wireguard' ? 'wireguard' : 'openvpn' } : {}),
  };
}

/** Keeps only string fields of a parsed form body (files are not part of any admin form). */
export function formValues(body: Record<string, unknown>): ProfileFormValues {
  const out: ProfileFormValues = {};
  for (const [k, v] of Object.entries(body)) if (typeof v === 'string' && k !== '_csrf') out[k] = v;
  return out;
}
