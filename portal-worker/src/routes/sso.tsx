import { Hono, type Context } from 'hono';
import { getCookie, setCookie } from 'hono/cookie';
import { randomToken } from '../core/crypto.ts';
import type { AppEnv } from '../env.ts';
import { csrf, setSessionCookie } from '../middleware/session.ts';
import { identityFrom } from '../sso/claims.ts';
import type { OidcProvider } from '../config/sso.ts';
import { discover, ProviderUnreachable } from '../sso/discovery.ts';
import { SSO_STATUS, SsoFailure } from '../core/sso-errors.ts';
import { authorizationUrl, completeLogin, newLoginSecrets } from '../sso/flow.ts';
import { ssoSignIn } from '../sso/sign-in.ts';
import { consumeSsoState, createSsoState } from '../store/sso-states.ts';
import { pageContext } from './page-context.ts';
import { SsoErrorPage } from '../views/sso-error.tsx';
import { safeNext } from './portal.tsx';

/** Single sign-on with OpenID providers (the SSO contract): `/sso/<id>/start` and `/sso/<id>/callback`. */
export const sso = new Hono<AppEnv>();

sso.use('*', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
// The start is a POST from the login page; the callback is a GET, which csrf() lets through.
sso.use('*', csrf());

// A login at the provider must be finished within this; the state is single use anyway.
const STATE_TTL_MS = 10 * 60_000;

const https = (c: Context<AppEnv>) => new URL(c.req.url).protocol === 'https:';
/** Binds a started login to this browser; `__Host-` pins it to this origin over https. */
const cookieName = (c: Context<AppEnv>) => (https(c) ? '__Host-edgeport_sso' : 'edgeport_sso');
const redirectUri = (c: Context<AppEnv>, p: OidcProvider) => `${new URL(c.req.url).origin}/sso/${p.id}/callback`;

function providerOf(c: Context<AppEnv>): OidcProvider {
  const provider = c.var.config.sso.providers.find((p) => p.id === c.req.param('id'));
  if (!provider) throw new SsoFailure('unknown_provider', `no provider "${c.req.param('id')}"`);
  return provider;
}

async function discoverOrFail(provider: OidcProvider) {
  try {
    return await discover(provider);
  } catch (err) {
    // Unreachable, 5xx, or a document for another issuer: the provider cannot be used now.
    throw new SsoFailure('provider_unreachable', `discovery failed: ${err instanceof ProviderUnreachable ? err.message : (err as Error).message}`);
  }
}

/** Every failure is logged with what support needs, and answered with its code's page; nothing else is written. */
async function failed(c: Context<AppEnv>, err: unknown): Promise<Response> {
  if (!(err instanceof SsoFailure)) throw err;
  console.log(JSON.stringify({ level: 'warn', msg: 'single sign-on failed', request_id: c.var.requestId, provider: c.req.param('id'), code: err.code, message: err.message }));
  return c.html(<SsoErrorPage page={await pageContext(c)} code={err.code} requestId={c.var.requestId} />, SSO_STATUS[err.code]);
}

sso.post('/:id/start', async (c) => {
  try {
    const provider = providerOf(c);
    const body = await c.req.parseBody();
    const issuer = await discoverOrFail(provider);
    const secrets = newLoginSecrets();
    const url = await authorizationUrl(provider, issuer, redirectUri(c, provider), secrets);
    // One cookie per browser, kept across starts, so two tabs signing in at once both succeed.
    const existing = getCookie(c, cookieName(c));
    const browser = existing && /^[\w-]{43}$/.test(existing) ? existing : randomToken();
    const now = Date.now();
    await createSsoState(c.var.db, { ...secrets, providerId: provider.id, browserSecret: browser, next: safeNext(body.next), expiresAt: now + STATE_TTL_MS }, now);
    setCookie(c, cookieName(c), browser, { path: '/', httpOnly: true, secure: https(c), sameSite: 'Lax', maxAge: STATE_TTL_MS / 1000 });
    return c.redirect(url, 303);
  } catch (err) {
    return failed(c, err);
  }
});

sso.get('/:id/callback', async (c) => {
  try {
    const provider = providerOf(c);
    const params = new URL(c.req.url).searchParams;
    const state = params.get('state');
    if (!state) throw new SsoFailure('state', 'the callback carries no state');
    const now = Date.now();
    // Consumed before the code is exchanged: a replayed callback never reaches the provider.
    const login = await consumeSsoState(c.var.db, state, provider.id, getCookie(c, cookieName(c)) ?? null, now);
    if (login.kind === 'refused') throw new SsoFailure('state', `state refused: ${login.reason}`);
    const issuer = await discoverOrFail(provider);
    const claims = await completeLogin(provider, issuer, params, { state, nonce: login.nonce, codeVerifier: login.codeVerifier, redirectUri: redirectUri(c, provider) });
    const mapped = identityFrom(provider, claims);
    if (!mapped.ok) throw new SsoFailure('missing_claim', mapped.message);
    const { sessionIdleMs: idleMs, sessionMaxMs: maxMs } = c.var.config;
    const result = await ssoSignIn(c.var.db, provider, mapped.identity, { now, policy: { idleMs, maxMs }, userAgent: c.req.header('user-agent') ?? null, requestId: c.var.requestId });
    if (!result.ok) throw new SsoFailure(result.code, result.message);
    console.log(JSON.stringify({ level: 'info', msg: 'single sign-on', request_id: c.var.requestId, provider: provider.id, user: mapped.identity.userId, admin: mapped.identity.isAdmin }));
    setSessionCookie(c, result.sessionSecret);
    return c.redirect(login.next, 303);
  } catch (err) {
    return failed(c, err);
  }
});
