import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { findAuthorization } from '../store/oauth.ts';
import { parseList } from '../store/json.ts';
import { signingKeys, verifyToken } from '../oauth/tokens.ts';

function refuse(description: string): never {
  // RFC 6750 §3: apps refresh once and retry on 401 (docs/eduvpn.md §1.2).
  throw new AppError('unauthenticated', description, {
    oauthError: 'invalid_token',
    headers: { 'WWW-Authenticate': `Bearer realm="Edgeport", error="invalid_token", error_description="${description}"` },
  });
}

/**
 * A valid signature is not enough: the authorization must still exist and its user be enabled,
 * checked on every call, so revoking an app or disabling a user stops its token at once.
 */
export function bearer(): MiddlewareHandler<AppEnv> {
  return async function bearerMiddleware(c, next) {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer ([A-Za-z0-9\-._~+/]+=*)$/.exec(header);
    if (!match?.[1]) refuse('missing bearer token');
    const now = Date.now();
    const claims = await verifyToken(await signingKeys(c.var.config.oauth.signingKey), 'access', match[1], now);
    if (!claims) refuse('invalid or expired access token');
    const auth = await findAuthorization(c.var.db, claims.auth);
    if (!auth || auth.expires_at <= now) refuse('the authorization was revoked or has ended');
    if (auth.is_disabled === 1) refuse('the account is disabled');
    if (auth.scope !== 'config') refuse('the token lacks the "config" scope');
    c.set('apiAuth', {
      authorizationId: auth.id,
      userId: auth.user_id,
      clientId: auth.client_id,
      expiresAt: auth.expires_at,
      permissions: parseList(auth.permissions),
      authProvider: auth.auth_provider,
      permissionsAt: auth.permissions_at,
    });
    await next();
  };
}
