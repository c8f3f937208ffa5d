import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../errors.ts';
import { bearer } from '../oauth/bearer.ts';
import { allowedFor, listProfiles } from '../store/profiles.ts';

/** The eduVPN client API v3 (eduvpn.md §1.3), for the unchanged eduVPN / Let's Connect! apps. */
export const apiV3 = new Hono<AppEnv>();

const ROUTES: Record<string, string> = { '/info': 'GET', '/connect': 'POST', '/disconnect': 'POST' };

apiV3.use('*', async function vpnApiAudience(c, next) {
  c.set('audience', 'vpn-api');
  await next();
});

// Unknown paths and wrong methods answer before authentication, as upstream does.
apiV3.use('*', async function routeCheck(c, next) {
  const path = new URL(c.req.url).pathname.slice('/api/v3'.length);
  const method = ROUTES[path];
  if (!method) throw new AppError('not_found', `"${path}" not found`);
  if (c.req.method !== method && !(method === 'GET' && c.req.method === 'HEAD')) {
    throw new AppError('method_not_allowed', `method ${c.req.method} not allowed`, { headers: { Allow: method } });
  }
  await next();
});

apiV3.use('*', bearer());

apiV3.get('/info', async (c) => {
  const profiles = allowedFor(await listProfiles(c.var.db), c.var.apiAuth.permissions);
  return c.json({
    info: {
      profile_list: profiles.map((p) => ({
        profile_id: p.id,
        // A plain string: eduvpn-common decodes display_name into a Go string (eduvpn.md §1.3).
        display_name: p.display_name,
        vpn_proto_list: [...(p.openvpn ? ['openvpn'] : []), ...(p.wireguard ? ['wireguard'] : [])],
        vpn_proto_transport_list: [
          ...(p.wireguard ? ['wireguard+udp'] : []),
          ...(p.openvpn && p.openvpn.udp_ports.length ? ['openvpn+udp'] : []),
          ...(p.openvpn && p.openvpn.tcp_ports.length ? ['openvpn+tcp'] : []),
        ],
        default_gateway: p.default_gateway,
        dns_search_domain_list: p.dns_search_domains,
      })),
    },
  });
});
