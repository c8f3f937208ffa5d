import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { clientIp, passwordLogin } from '../auth/login.ts';
import { normalizeUserId } from '../domain/user-commands.ts';
import { clearSessionCookie, csrf, requireUser, setSessionCookie } from '../middleware/session.ts';
import { createSession, deleteSession } from '../store/sessions.ts';
import { LoginPage } from '../views/login.tsx';
import { pageContext } from './page-context.ts';
import { isLang, type MessageKey } from '../i18n/index.ts';
import { LANG_COOKIE } from '../middleware/language.ts';
import { setCookie } from 'hono/cookie';
import { renderHome } from './portal-home.tsx';
import { authorizationOrigins, warmDiscovery } from '../sso/discovery.ts';

/** Only same-site paths may follow a login: "//evil.example" and "https://…" are open redirects. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) && next.length < 2048 ? next : '/';
}

export const portal = new Hono<AppEnv>();

// Per route, not '*': a sub-app mounted at '/' must not claim paths it does not serve.
for (const path of ['/', '/login', '/logout', '/language']) {
  portal.use(path, async function htmlAudience(c, next) {
    c.set('audience', 'html');
    await next();
  });
  portal.use(path, csrf());
}

/** The login page: a button per OpenID provider, and the password form unless LOCAL_LOGIN is off. */
async function loginPage(c: Context<AppEnv>, next: string, status: 200 | 401 | 403 | 429 = 200, error?: MessageKey, userId?: string) {
  const { providers, localLogin } = c.var.config.sso;
  // An authorization endpoint on another origin than its issuer is only known after discovery.
  await warmDiscovery(providers, 1500);
  const origins = authorizationOrigins(providers);
  if (origins.length) c.set('formActionSource', origins.join(' '));
  const page = await pageContext(c);
  return c.html(
    <LoginPage page={page} next={next} providers={providers.map(({ id, name }) => ({ id, name }))} localLogin={localLogin} error={error ? c.var.t(error) : undefined} userId={userId} />,
    status,
  );
}

portal.get('/login', async (c) => {
  if (c.var.user) return c.redirect(safeNext(c.req.query('next')));
  return loginPage(c, safeNext(c.req.query('next')));
});

portal.post('/login', async (c) => {
  const body = await c.req.parseBody();
  const next = safeNext(body.next);
  // 403, not 404: the route exists, this portal refuses passwords (and says so on the login page).
  if (!c.var.config.sso.localLogin) return loginPage(c, next, 403, 'sso.localOff');
  const userId = normalizeUserId(typeof body.user === 'string' ? body.user : '');
  const password = typeof body.password === 'string' ? body.password : '';
  const again = (error: MessageKey, status: 401 | 403 | 429) => loginPage(c, next, status, error, userId);

  if (!userId || !password || password.length > 1024) return again('login.missing', 401);
  const outcome = await passwordLogin(c.env, c.var.config, c.var.db, userId, password, clientIp(c.req.header('cf-connecting-ip')));
  switch (outcome.kind) {
    case 'throttled':
      c.header('Retry-After', String(Math.ceil(outcome.retryAfterMs / 1000)));
      return again('login.throttled', 429);
    case 'bad_credentials':
      return again('login.bad', 401);
    case 'disabled':
      return again('login.disabled', 403);
    case 'ok': {
      // A fresh session id at every login: a cookie planted before login is worth nothing after it.
      const { sessionIdleMs: idleMs, sessionMaxMs: maxMs } = c.var.config;
      const secret = await createSession(c.var.db, outcome.userId, Date.now(), { idleMs, maxMs }, c.req.header('user-agent') ?? null);
      setSessionCookie(c, secret);
      return c.redirect(next, 303);
    }
  }
});

/** Upstream's language switcher: a cookie `L`, then back to the page the form was on. */
portal.post('/language', async (c) => {
  const body = await c.req.parseBody();
  if (!isLang(body.lang)) throw new AppError('bad_request', 'unsupported language');
  setCookie(c, LANG_COOKIE, body.lang, { path: '/', sameSite: 'Lax', secure: new URL(c.req.url).protocol === 'https:', maxAge: 365 * 24 * 3600 });
  return c.redirect(safeNext(body.next), 303);
});

portal.post('/logout', async (c) => {
  if (c.var.sessionSecret) await deleteSession(c.var.db, c.var.sessionSecret);
  clearSessionCookie(c);
  return c.redirect('/login', 303);
});

portal.get('/', requireUser(), (c) => renderHome(c));
