import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../errors.ts';
import { csrf, csrfToken, requireUser } from '../middleware/session.ts';
import { findClient } from '../oauth/clients.ts';
import { revokeAuthorization } from '../domain/authorization-commands.ts';
import { listAuthorizations } from '../store/oauth.ts';
import { AccountPage } from '../views/account.tsx';
import { pageContext } from '../views/page.ts';

/** The user's own account: who they are and which apps may fetch configurations for them. */
export const account = new Hono<AppEnv>();

account.use('*', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
account.use('*', requireUser(), csrf());

account.get('/', async (c) => {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  const rows = await listAuthorizations(c.var.db, user.id, Date.now());
  const apps = await Promise.all(
    rows.map(async (r) => ({ id: r.id, clientName: (await findClient(c.var.db, r.client_id))?.name ?? r.client_id, createdAt: r.created_at, expiresAt: r.expires_at })),
  );
  return c.html(<AccountPage page={{ ...(await pageContext(c)), user }} apps={apps} />);
});

account.post('/authorizations/:id/revoke', async (c) => {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  await revokeAuthorization(c.var.db, c.var.notifier, user.id, c.req.param('id'), Date.now(), { actorUserId: user.id, requestId: c.var.requestId });
  return c.redirect('/account', 303);
});
