import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { clientIp, passwordLogin } from '../auth/login.ts';
import { csrf, requireUser } from '../middleware/session.ts';
import { findClient } from '../domain/oauth-clients.ts';
import { revokeAuthorization } from '../domain/authorization-commands.ts';
import { changePasswordCommand, type PasswordProblem } from '../domain/password-change.ts';
import { listAuthorizations } from '../store/oauth.ts';
import { allowedFor, listProfiles } from '../store/profiles.ts';
import { findLocalLogin, type CurrentUser } from '../store/users.ts';
import { AccountPage } from '../views/account.tsx';
import { pageContext } from './page-context.ts';
import { PasswordPage } from '../views/portal-password.tsx';

/** The user's own account: who they are, which apps may fetch configurations for them, their password. */
export const account = new Hono<AppEnv>();

account.use('*', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
account.use('*', requireUser(), csrf());

function signedIn(c: Context<AppEnv>): CurrentUser {
  const user = c.var.user;
  if (!user) throw new AppError('unauthenticated', 'sign in first');
  return user;
}

account.get('/', async (c) => {
  const user = signedIn(c);
  const [rows, profiles, local] = await Promise.all([listAuthorizations(c.var.db, user.id, Date.now()), listProfiles(c.var.db), findLocalLogin(c.var.db, user.id)]);
  const apps = await Promise.all(rows.map(async (r) => ({ id: r.id, clientName: (await findClient(c.var.db, r.client_id))?.name ?? r.client_id, createdAt: r.created_at, expiresAt: r.expires_at })));
  return c.html(
    <AccountPage
      page={{ ...(await pageContext(c)), user }}
      apps={apps}
      profiles={allowedFor(profiles, user.permissions)}
      hasLocalAccount={local !== undefined}
      passwordChanged={c.req.query('changed') === 'password'}
    />,
  );
});

account.post('/authorizations/:id/revoke', async (c) => {
  const user = signedIn(c);
  await revokeAuthorization(c.var.db, c.var.notifier, user.id, c.req.param('id'), Date.now(), { actorUserId: user.id, requestId: c.var.requestId });
  return c.redirect('/account', 303);
});

/** Only local accounts have a password here; anyone else is answered as if the page did not exist. */
async function localUser(c: Context<AppEnv>): Promise<CurrentUser> {
  const user = signedIn(c);
  if (!(await findLocalLogin(c.var.db, user.id))) throw new AppError('not_found', 'this account has no password here');
  return user;
}

account.get('/password', async (c) => {
  const user = await localUser(c);
  return c.html(<PasswordPage page={{ ...(await pageContext(c)), user }} errors={[]} />);
});

const PROBLEMS = {
  missing: ['', 'portal.password.missing'],
  mismatch: ['repeat_password', 'portal.password.mismatch'],
  too_short: ['new_password', 'portal.password.tooShort'],
  too_long: ['new_password', 'portal.password.tooLong'],
  wrong_current: ['current_password', 'portal.password.wrong'],
} as const satisfies Record<PasswordProblem, readonly [string, string]>;

account.post('/password', async (c) => {
  const user = await localUser(c);
  const body = await c.req.parseBody();
  const field = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  const ip = clientIp(c.req.header('cf-connecting-ip'));
  const outcome = await changePasswordCommand(
    {
      db: c.var.db,
      now: Date.now(),
      audit: { actorUserId: user.id, requestId: c.var.requestId },
      // The login check itself: a wrong current password counts against the login throttle.
      checkCurrent: (password) => passwordLogin(c.env, c.var.config, c.var.db, user.id, password, ip),
    },
    user.id,
    c.var.sessionSecret as string,
    { current: field('current_password'), next: field('new_password'), repeat: field('repeat_password') },
  );
  const again = async (errors: { path: string; message: string }[], status: 400 | 429) => c.html(<PasswordPage page={{ ...(await pageContext(c)), user }} errors={errors} />, status);
  switch (outcome.kind) {
    case 'ok':
      return c.redirect('/account?changed=password', 303);
    case 'throttled':
      c.header('Retry-After', String(Math.ceil(outcome.retryAfterMs / 1000)));
      return again([{ path: '', message: c.var.t('login.throttled') }], 429);
    case 'invalid': {
      const [path, key] = PROBLEMS[outcome.problem];
      return again([{ path, message: c.var.t(key) }], 400);
    }
  }
});
