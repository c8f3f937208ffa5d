import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { sha256Hex, timingSafeEqual, randomToken } from '../core/crypto.ts';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { loadSession } from '../store/sessions.ts';

function isHttps(c: Context<AppEnv>): boolean {
  return new URL(c.req.url).protocol === 'https:';
}

/** `__Host-` pins the cookie to this exact origin over https; plain http (local `npm start`) cannot use it. */
export function sessionCookieName(c: Context<AppEnv>): string {
  return isHttps(c) ? '__Host-edgeport_session' : 'edgeport_session';
}
function preCookieName(c: Context<AppEnv>): string {
  return isHttps(c) ? '__Host-edgeport_pre' : 'edgeport_pre';
}

const cookieOptions = (c: Context<AppEnv>, maxAgeSeconds?: number) => ({
  path: '/',
  httpOnly: true,
  secure: isHttps(c),
  sameSite: 'Lax' as const,
  ...(maxAgeSeconds ? { maxAge: maxAgeSeconds } : {}),
});

export function setSessionCookie(c: Context<AppEnv>, secret: string): void {
  setCookie(c, sessionCookieName(c), secret, cookieOptions(c));
  deleteCookie(c, preCookieName(c), { path: '/', secure: isHttps(c) });
  c.set('sessionSecret', secret);
  c.set('csrfSecret', secret);
}

export function clearSessionCookie(c: Context<AppEnv>): void {
  deleteCookie(c, sessionCookieName(c), { path: '/', secure: isHttps(c) });
  c.set('sessionSecret', null);
}

/** Loads the signed-in user (if any) from the session cookie; never fails the request itself. */
export function session(): MiddlewareHandler<AppEnv> {
  return async function sessionMiddleware(c, next) {
    const secret = getCookie(c, sessionCookieName(c)) ?? null;
    const { sessionIdleMs: idleMs, sessionMaxMs: maxMs } = c.var.config;
    const user = secret ? await loadSession(c.var.db, secret, Date.now(), { idleMs, maxMs }) : null;
    c.set('user', user);
    c.set('sessionSecret', user ? secret : null);
    c.set('csrfSecret', user ? secret : (getCookie(c, preCookieName(c)) ?? null));
    await next();
  };
}

/**
 * The CSRF token for the current browser, bound to a secret cookie: the session cookie when
 * signed in, else a pre-session cookie made here (so the login form is protected too).
 */
export async function csrfToken(c: Context<AppEnv>): Promise<string> {
  let secret = c.var.csrfSecret;
  if (!secret) {
    secret = randomToken();
    setCookie(c, preCookieName(c), secret, cookieOptions(c, 60 * 60));
    c.set('csrfSecret', secret);
  }
  return tokenFor(secret);
}

async function tokenFor(secret: string): Promise<string> {
  return (await sha256Hex(`edgeport-csrf:${secret}`)).slice(0, 43);
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every state-changing request made with cookies carries the token, as the `_csrf` form field
 * or the `X-CSRF-Token` header; a cross-site Origin is refused outright.
 */
export function csrf(): MiddlewareHandler<AppEnv> {
  return async function csrfMiddleware(c, next) {
    if (SAFE.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    if (origin && origin !== new URL(c.req.url).origin) throw new AppError('csrf_failed', 'cross-site request refused');
    let sent = c.req.header('x-csrf-token') ?? null;
    if (!sent) {
      const type = c.req.header('content-type') ?? '';
      if (type.startsWith('application/x-www-form-urlencoded') || type.startsWith('multipart/form-data')) {
        const body = await c.req.parseBody();
        sent = typeof body._csrf === 'string' ? body._csrf : null;
      }
    }
    const secret = c.var.csrfSecret;
    if (!secret || !sent || !timingSafeEqual(sent, await tokenFor(secret))) {
      throw new AppError('csrf_failed', 'missing or invalid CSRF token; reload the page and try again');
    }
    await next();
  };
}

/** Anonymous visitors: pages send them to the login form and back; everything else gets 401. */
function signInFirst(c: Context<AppEnv>): Response {
  if (c.var.audience === 'html' && c.req.method === 'GET') {
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  throw new AppError('unauthenticated', 'sign in first');
}

export function requireUser(): MiddlewareHandler<AppEnv> {
  return async function requireUserMiddleware(c, next) {
    if (!c.var.user) return signInFirst(c);
    await next();
  };
}

/** Checked on every admin route, pages and API alike (mounted once on the admin sub-app). */
export function requireAdmin(): MiddlewareHandler<AppEnv> {
  return async function requireAdminMiddleware(c, next) {
    if (!c.var.user) return signInFirst(c);
    if (!c.var.user.isAdmin) throw new AppError('forbidden', 'administrators only');
    await next();
  };
}
