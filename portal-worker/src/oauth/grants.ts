import { randomToken, sha256Hex } from '../core/crypto.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import { endAuthorization } from '../domain/authorization-commands.ts';
import type { NodeNotifier } from '../domain/node-door.ts';
import { consumeCode, createAuthorization, findAuthorization, rotateRefresh } from '../store/oauth.ts';
import { findUserDisabled } from '../store/users.ts';
import { findClient } from '../domain/oauth-clients.ts';
import { verifierMatches } from './pkce.ts';
import { signToken, signingKeys, verifyToken } from './tokens.ts';
import { configExpiry } from '../domain/portal-configs.ts';

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
}

const invalidGrant = (why: string) => new AppError('bad_request', why, { oauthError: 'invalid_grant' });

async function requireClient(db: Db, form: URLSearchParams) {
  const clientId = form.get('client_id');
  if (!clientId) throw new AppError('bad_request', 'missing "client_id"', { oauthError: 'invalid_request' });
  const client = await findClient(db, clientId);
  if (!client) throw new AppError('unauthenticated', 'unknown client', { oauthError: 'invalid_client' });
  return client;
}

async function tokensFor(config: Config, auth: { id: string; userId: string; expiresAt: number }, seq: number, now: number): Promise<TokenResponse> {
  const keys = await signingKeys(config.oauth.signingKey);
  // An access token never outlives its authorization.
  const accessExpires = Math.min(now + config.oauth.accessTokenMs, auth.expiresAt);
  const [access, refresh] = await Promise.all([
    signToken(keys, 'access', { auth: auth.id }, auth.userId, accessExpires, now),
    signToken(keys, 'refresh', { auth: auth.id, seq }, auth.userId, auth.expiresAt, now),
  ]);
  return { access_token: access, refresh_token: refresh, token_type: 'bearer', expires_in: Math.floor((accessExpires - now) / 1000) };
}

/**
 * 90 days by default, but never past the VPN CA's own expiry (as upstream clamps it): a client
 * certificate cannot outlive the CA that signed it.
 */
/** RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.6). */
export async function exchangeCode(db: Db, config: Config, notifier: NodeNotifier, form: URLSearchParams, now: number, requestId: string): Promise<TokenResponse> {
  const client = await requireClient(db, form);
  const code = form.get('code');
  const redirectUri = form.get('redirect_uri');
  const verifier = form.get('code_verifier');
  if (!code || !redirectUri) throw new AppError('bad_request', 'missing "code" or "redirect_uri"', { oauthError: 'invalid_request' });
  if (code.length > 512) throw invalidGrant('unknown code');
  const consumed = await consumeCode(db, await sha256Hex(code), now);
  if (consumed.kind === 'unknown') throw invalidGrant('unknown code');
  if (consumed.kind === 'reused') {
    // RFC 6749 §4.1.2: a code used twice may be stolen; revoke what the first use produced.
    if (consumed.row.authorization_id) {
      await endAuthorization(db, notifier, consumed.row.authorization_id, now, 'oauth.code_replayed', { actorUserId: null, requestId });
    }
    throw invalidGrant('the code was already used');
  }
  const row = consumed.row;
  if (row.expires_at <= now) throw invalidGrant('the code has expired');
  if (row.client_id !== client.id) throw invalidGrant('the code was issued to another client');
  if (row.redirect_uri !== redirectUri) throw invalidGrant('redirect_uri differs from the authorization request');
  if (!verifier || !(await verifierMatches(verifier, row.code_challenge))) throw invalidGrant('code_verifier does not match the code_challenge');

  const user = await findUserDisabled(db, row.user_id);
  if (!user || user.is_disabled === 1) throw invalidGrant('the account is disabled');

  const auth = { id: randomToken(24), userId: row.user_id, expiresAt: await configExpiry(config, now) };
  await createAuthorization(db, { id: auth.id, userId: auth.userId, clientId: client.id, scope: row.scope, expiresAt: auth.expiresAt, codeHash: row.code_hash }, now, {
    actorUserId: row.user_id,
    requestId,
  });
  return tokensFor(config, auth, 0, now);
}

/** RFC 6749 §6 with rotation: each refresh token works once; a replay revokes the authorization. */
export async function refreshTokens(db: Db, config: Config, notifier: NodeNotifier, form: URLSearchParams, now: number, requestId: string): Promise<TokenResponse> {
  const client = await requireClient(db, form);
  const token = form.get('refresh_token');
  if (!token) throw new AppError('bad_request', 'missing "refresh_token"', { oauthError: 'invalid_request' });
  const claims = await verifyToken(await signingKeys(config.oauth.signingKey), 'refresh', token, now);
  if (!claims) throw invalidGrant('invalid or expired refresh token');
  const auth = await findAuthorization(db, claims.auth);
  if (!auth || auth.expires_at <= now) throw invalidGrant('the authorization has ended');
  if (auth.client_id !== client.id) throw invalidGrant('the refresh token was issued to another client');
  if (auth.is_disabled === 1) throw invalidGrant('the account is disabled');
  const seq = claims.seq as number;
  const rotated = seq === auth.refresh_seq && (await rotateRefresh(db, auth.id, seq, now));
  if (!rotated) {
    await endAuthorization(db, notifier, auth.id, now, 'oauth.refresh_replayed', { actorUserId: null, requestId });
    throw invalidGrant('the refresh token was already used; the authorization is revoked');
  }
  return tokensFor(config, { id: auth.id, userId: auth.user_id, expiresAt: auth.expires_at }, seq + 1, now);
}
