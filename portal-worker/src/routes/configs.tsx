import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { MEDIA } from '../domain/protocol.ts';
import { createPortalConfig, deletePortalConfig, openvpnFileName, wireguardFileName } from '../domain/portal-configs.ts';
import { csrf, requireUser } from '../middleware/session.ts';
import { qrPath } from '../vpn/qr.ts';
import { WireguardResultPage } from '../views/config-result.tsx';
import { pageContext } from './page-context.ts';
import { problemErrors, renderHome } from './portal-home.tsx';

/** Configurations made in the browser for devices without an app (upstream's "portal" configs). */
export const configs = new Hono<AppEnv>();

configs.use('*', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
configs.use('*', requireUser(), csrf());

const text = (v: unknown) => (typeof v === 'string' ? v : undefined);

// A refused form is shown at /configs; its language switcher comes back here.
configs.get('/', (c) => c.redirect('/', 303));

/** Upstream's POST /addConfig: WireGuard answers with a page (key, QR code), OpenVPN with the file itself. */
configs.post('/', async (c) => {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  const body = await c.req.parseBody();
  const values = { display_name: text(body.display_name), profile: text(body.profile), prefer_tcp: text(body.prefer_tcp) };
  const url = new URL(c.req.url);
  const now = Date.now();
  const outcome = await createPortalConfig(
    { db: c.var.db, config: c.var.config, notifier: c.var.notifier, now, random: Math.random, portalUrl: `${url.origin}/`, audit: { actorUserId: user.id, requestId: c.var.requestId } },
    user,
    body,
  );
  switch (outcome.kind) {
    case 'invalid':
      return renderHome(c, { values, errors: problemErrors(c, outcome.problems) }, 400);
    case 'disabled':
      return renderHome(c, { alert: 'disabled' }, 403);
    case 'limit':
      return renderHome(c, { values, alert: 'limit' }, 409);
    case 'unavailable':
      return renderHome(c, { values, alert: 'unavailable' }, 503);
    case 'created': {
      // The answer holds a private key: no cache may keep it.
      c.header('Cache-Control', 'no-store');
      if (outcome.proto === 'openvpn') {
        const file = openvpnFileName(url.hostname, outcome.profile.id, now, outcome.name);
        return c.body(outcome.body, 200, { 'Content-Type': MEDIA.openvpn, 'Content-Disposition': `attachment; filename="${file}"` });
      }
      const result = { name: outcome.name, config: outcome.body, fileName: wireguardFileName(outcome.name), expiresAt: outcome.expiresAt, qr: qrPath(outcome.body) };
      return c.html(<WireguardResultPage page={{ ...(await pageContext(c)), user }} result={result} />);
    }
  }
});

/** Upstream's POST /deleteConfig: one of the user's own portal configs, never an app's or another user's. */
configs.post('/delete', async (c) => {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  const body = await c.req.parseBody();
  const kind = body.kind;
  const id = text(body.id);
  const known = (kind === 'wireguard' || kind === 'openvpn') && id && id.length <= 255;
  if (!known || !(await deletePortalConfig(c.var.db, c.var.notifier, user.id, kind, id, Date.now()))) throw new AppError('not_found', 'no such configuration');
  return c.redirect('/', 303);
});
