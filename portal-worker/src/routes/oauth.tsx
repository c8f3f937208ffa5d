import { Hono, type Context } from 'hono';
import { randomToken, sha256Hex } from '../core/crypto.ts';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { checkAuthorize, withParams, AUTHORIZE_PARAMS, type AuthorizeParams } from '../oauth/authorize.ts';
import type { OAuthClient } from '../domain/oauth-clients.ts';
import { exchangeCode, refreshTokens } from '../oauth/grants.ts';
import { csrf } from '../middleware/session.ts';
import { createCode } from '../store/oauth.ts';
import { ConsentPage } from '../views/consent.tsx';
import { pageContext } from './page-context.ts';

const CODE_LIFETIME_MS = 5 * 60_000; // docs/eduvpn.md §1.2: PT5M

export const oauth = new Hono<AppEnv>();

oauth.use('/authorize', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
oauth.use('/authorize', csrf());
oauth.use('/token', async function oauthAudience(c, next) {
  c.set('audience', 'oauth');
  await next();
  c.header('Cache-Control', 'no-store');
  c.header('Pragma', 'no-cache');
});

async function issueCode(c: Context<AppEnv>, client: OAuthClient, p: AuthorizeParams, userId: string): Promise<Response> {
  const code = randomToken();
  const now = Date.now();
  await createCode(
    c.var.db,
    { codeHash: await sha256Hex(code), userId, clientId: client.id, redirectUri: p.redirect_uri, challenge: p.code_challenge, scope: p.scope, expiresAt: now + CODE_LIFETIME_MS },
    now,
  );
  // RFC 9207: `iss` lets the app check which server answered.
  return c.redirect(withParams(p.redirect_uri, { code, state: p.state, iss: new URL(c.req.url).origin }), 302);
}

/**
 * The CSP source that matches a redirect URI: its origin for http(s) on a named or IPv4 host, its
 * scheme for an app's custom scheme (and for IPv6 literals, which CSP host sources cannot spell).
 */
export function cspSourceFor(redirectUri: string): string {
  const url = new URL(redirectUri);
  if ((url.protocol === 'http:' || url.protocol === 'https:') && !url.hostname.startsWith('[')) return url.origin;
  return url.protocol;
}

async function authorize(c: Context<AppEnv>, query: URLSearchParams): Promise<Response> {
  const check = await checkAuthorize(c.var.db, query);
  if (check.kind === 'page') throw new AppError('bad_request', check.message);
  if (check.kind === 'redirect') {
    return c.redirect(withParams(check.redirectUri, { error: check.error, error_description: check.description, state: check.state, iss: new URL(c.req.url).origin }), 302);
  }
  const user = c.var.user;
  if (!user) {
    if (c.req.method !== 'GET') throw new AppError('unauthenticated', 'sign in first');
    const url = new URL(c.req.url);
    return c.redirect(`/login?next=${encodeURIComponent(url.pathname + url.search)}`);
  }
  if (c.req.method === 'POST') {
    const decision = query.get('decision');
    if (decision === 'deny') {
      return c.redirect(withParams(check.params.redirect_uri, { error: 'access_denied', error_description: 'the user denied the request', state: check.params.state }), 302);
    }
    if (decision !== 'approve') throw new AppError('bad_request', 'choose approve or deny');
    return issueCode(c, check.client, check.params, user.id);
  }
  if (!check.client.requiresApproval) return issueCode(c, check.client, check.params, user.id);
  c.set('formActionSource', cspSourceFor(check.params.redirect_uri));
  return c.html(<ConsentPage page={{ ...(await pageContext(c)), user }} clientName={check.client.name} clientId={check.client.id} params={check.params} />);
}

oauth.get('/authorize', (c) => authorize(c, new URL(c.req.url).searchParams));

oauth.post('/authorize', async (c) => {
  const body = await c.req.parseBody({ all: true });
  const query = new URLSearchParams();
  for (const name of [...AUTHORIZE_PARAMS, 'decision']) {
    const v = body[name];
    for (const item of Array.isArray(v) ? v : v === undefined ? [] : [v]) if (typeof item === 'string') query.append(name, item);
  }
  return authorize(c, query);
});

oauth.post('/token', async (c) => {
  if (!(c.req.header('content-type') ?? '').startsWith('application/x-www-form-urlencoded')) {
    throw new AppError('bad_request', 'send the token request as application/x-www-form-urlencoded', { oauthError: 'invalid_request' });
  }
  const form = new URLSearchParams(new TextDecoder().decode(await c.req.arrayBuffer()));
  for (const name of new Set(form.keys())) {
    if (form.getAll(name).length > 1) throw new AppError('bad_request', `parameter "${name}" was sent more than once`, { oauthError: 'invalid_request' });
  }
  const grant = form.get('grant_type');
  const result =
    grant === 'authorization_code'
      ? await exchangeCode(c.var.db, c.var.config, c.var.notifier, form, Date.now(), c.var.requestId)
      : grant === 'refresh_token'
        ? await refreshTokens(c.var.db, c.var.config, c.var.notifier, form, Date.now(), c.var.requestId)
        : null;
  if (!result) throw new AppError('bad_request', 'grant_type must be authorization_code or refresh_token', { oauthError: 'unsupported_grant_type' });
  return c.json(result);
});
