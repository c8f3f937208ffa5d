import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { bearer } from '../middleware/bearer.ts';
import { connectCommand, disconnectCommand } from '../domain/connect.ts';
import { allowedFor, listProfiles } from '../store/profiles.ts';

/** The eduVPN client API v3 (docs/eduvpn.md §1.3), for the unchanged eduVPN / Let's Connect! apps. */
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
        // A plain string: eduvpn-common decodes display_name into a Go string (docs/eduvpn.md §1.3).
        display_name: p.display_name,
        vpn_proto_list: [...(p.openvpn ? ['openvpn'] : []), ...(p.wireguard ? ['wireguard'] : [])],
        vpn_proto_transport_list: [...(p.wireguard ? ['wireguard+udp'] : []), ...(p.openvpn?.udp_ports.length ? ['openvpn+udp'] : []), ...(p.openvpn?.tcp_ports.length ? ['openvpn+tcp'] : [])],
        default_gateway: p.default_gateway,
        dns_search_domain_list: p.dns_search_domains,
      })),
    },
  });
});

/** Form bodies only (docs/eduvpn.md §1.3); an empty body is an empty form. */
async function formBody(c: { req: { header(n: string): string | undefined; arrayBuffer(): Promise<ArrayBuffer> } }): Promise<URLSearchParams> {
  const type = c.req.header('content-type') ?? '';
  // Decoded by hand: workerd warns when .text() reads a body whose type is not text/*.
  const text = new TextDecoder().decode(await c.req.arrayBuffer());
  if (text && !type.startsWith('application/x-www-form-urlencoded')) throw new AppError('bad_request', 'send the parameters as application/x-www-form-urlencoded');
  const form = new URLSearchParams(text);
  for (const name of new Set(form.keys())) if (form.getAll(name).length > 1) throw new AppError('bad_request', `parameter "${name}" was sent more than once`);
  return form;
}

apiV3.post('/connect', async (c) => {
  const form = await formBody(c);
  const url = new URL(c.req.url);
  const result = await connectCommand(
    {
      db: c.var.db,
      config: c.var.config,
      notifier: c.var.notifier,
      now: Date.now(),
      random: Math.random,
      portalUrl: `${url.origin}/`,
      audit: { actorUserId: c.var.apiAuth.userId, requestId: c.var.requestId },
    },
    c.var.apiAuth,
    form,
    c.req.header('accept'),
  );
  // The authorization's expiry, not the token's: apps drive their renew countdown from it.
  c.header('Expires', new Date(result.expiresAt).toUTCString());
  c.header('Cache-Control', 'no-store');
  return c.body(result.body, 200, { 'Content-Type': result.contentType });
});

apiV3.post('/disconnect', async (c) => {
  await formBody(c);
  await disconnectCommand(c.var.db, c.var.notifier, c.var.apiAuth);
  return c.body(null, 204);
});
