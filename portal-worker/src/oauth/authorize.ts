import type { Db } from '../core/db.ts';
import { findClient, redirectUriAllowed, type OAuthClient } from '../domain/oauth-clients.ts';
import { isChallenge } from './pkce.ts';

export const AUTHORIZE_PARAMS = ['client_id', 'redirect_uri', 'response_type', 'scope', 'state', 'code_challenge_method', 'code_challenge'] as const;
export type AuthorizeParams = Record<(typeof AUTHORIZE_PARAMS)[number], string>;

export type AuthorizeCheck =
  | { kind: 'ok'; client: OAuthClient; params: AuthorizeParams }
  /** Not safe to redirect (unknown client or redirect URI): show the user an error page. */
  | { kind: 'page'; message: string }
  /** Safe to tell the app, by redirecting to its verified redirect URI. */
  | { kind: 'redirect'; redirectUri: string; state: string | null; error: string; description: string };

/** RFC 6749 §4.1.1 with the eduVPN profile: every parameter required, PKCE S256 only, scope "config". */
export async function checkAuthorize(db: Db, query: URLSearchParams): Promise<AuthorizeCheck> {
  const one = (name: string) => {
    const all = query.getAll(name);
    return all.length === 1 ? (all[0] as string) : null;
  };
  const clientId = one('client_id');
  const redirectUri = one('redirect_uri');
  const client = clientId ? await findClient(db, clientId) : null;
  if (!client) return { kind: 'page', message: 'This application is not known to the server (client_id).' };
  if (!redirectUri || !redirectUriAllowed(client, redirectUri)) {
    return { kind: 'page', message: 'The application asked to return to an address that is not registered for it (redirect_uri).' };
  }
  const state = one('state');
  const fail = (error: string, description: string): AuthorizeCheck => ({ kind: 'redirect', redirectUri, state, error, description });
  // RFC 6749 §3.1: a parameter sent twice makes the request invalid.
  const repeated = AUTHORIZE_PARAMS.find((p) => query.getAll(p).length > 1);
  if (repeated) return fail('invalid_request', `parameter "${repeated}" was sent more than once`);
  if (!state) return fail('invalid_request', 'missing "state"');
  if (one('response_type') !== 'code') return fail('unsupported_response_type', 'only response_type=code is supported');
  if (one('scope') !== 'config') return fail('invalid_scope', 'the only scope is "config"');
  if (one('code_challenge_method') !== 'S256') return fail('invalid_request', 'PKCE with code_challenge_method=S256 is required');
  const challenge = one('code_challenge');
  if (!challenge || !isChallenge(challenge)) return fail('invalid_request', 'missing or malformed "code_challenge"');
  return {
    kind: 'ok',
    client,
    params: {
      client_id: client.id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'config',
      state,
      code_challenge_method: 'S256',
      code_challenge: challenge,
    },
  };
}

/** Appends the response parameters, keeping any query the registered URI already has. */
export function withParams(redirectUri: string, params: Record<string, string | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null) q.set(k, v);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${q.toString()}`;
}
