/**
 * The OpenID Connect authorization code flow (Core 1.0 §3.1) with PKCE, on oauth4webapi: the
 * authorization URL for the start, and for the callback the code exchange, the ID token checks,
 * its signature against the provider's JWKS, and optionally the userinfo claims.
 */
import * as oauth from 'oauth4webapi';
import type { OidcProvider } from '../config/sso.ts';
import { ProviderUnreachable, requestOptions, type IssuerState } from './discovery.ts';
import { SsoFailure, type SsoCode } from '../core/sso-errors.ts';

export interface LoginSecrets {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export function newLoginSecrets(): LoginSecrets {
  return { state: oauth.generateRandomState(), nonce: oauth.generateRandomNonce(), codeVerifier: oauth.generateRandomCodeVerifier() };
}

const clientOf = (provider: OidcProvider): oauth.Client => ({ client_id: provider.clientId });

/** Our own failures pass through; a transport failure is `provider_unreachable` whatever the step. */
function classify(err: unknown, code: SsoCode | ((err: unknown) => SsoCode)): SsoFailure {
  if (err instanceof SsoFailure) return err;
  if (err instanceof ProviderUnreachable) return new SsoFailure('provider_unreachable', err.message);
  if (err instanceof oauth.ResponseBodyError) return new SsoFailure(typeof code === 'function' ? code(err) : code, `${err.error}: ${err.error_description ?? err.message}`);
  return new SsoFailure(typeof code === 'function' ? code(err) : code, err instanceof Error ? err.message : String(err));
}

async function step<T>(code: SsoCode | ((err: unknown) => SsoCode), run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw classify(err, code);
  }
}

/**
 * The provider refused the request itself (an OAuth error body, a challenge, a non-200 answer):
 * `refusedCode`; an ID token without the `sub` that is this provider's user id: `missing_claim`
 * (the contract's "no usable user-id claim"); any other check that failed: `id_token_invalid`.
 */
const refusal =
  (provider: OidcProvider, refusedCode: SsoCode) =>
  (err: unknown): SsoCode => {
    if (err instanceof oauth.ResponseBodyError || err instanceof oauth.WWWAuthenticateChallengeError) return refusedCode;
    if (!(err instanceof oauth.OperationProcessingError)) return 'id_token_invalid';
    if (err.code === oauth.RESPONSE_IS_NOT_CONFORM) return refusedCode;
    if (provider.userIdClaim === 'sub' && err.code === oauth.INVALID_RESPONSE && /JWT "sub"/.test(err.message)) return 'missing_claim';
    return 'id_token_invalid';
  };

/** Where the browser goes to sign in (Core §3.1.2.1), with PKCE S256 (RFC 7636 §4.3). */
export async function authorizationUrl(provider: OidcProvider, issuer: IssuerState, redirectUri: string, secrets: LoginSecrets): Promise<string> {
  const endpoint = issuer.as.authorization_endpoint;
  let url: URL;
  try {
    url = new URL(String(endpoint));
  } catch {
    throw new SsoFailure('provider_unreachable', 'the discovery document has no usable authorization_endpoint');
  }
  if (url.protocol !== 'https:' && !(provider.insecure && url.protocol === 'http:')) {
    throw new SsoFailure('provider_unreachable', 'the authorization_endpoint is not https');
  }
  const params: Record<string, string> = {
    response_type: 'code',
    client_id: provider.clientId,
    redirect_uri: redirectUri,
    scope: provider.scopes.join(' '),
    state: secrets.state,
    nonce: secrets.nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(secrets.codeVerifier),
    code_challenge_method: 'S256',
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.href;
}

// The contract: on an unknown `kid` the JWKS is fetched again at once, but at most every 10 s per
// issuer, so tokens with made-up key ids cannot make the portal hammer the provider.
const JWKS_REFETCH_MIN_S = 10;

function unknownKey(err: unknown): boolean {
  if (!(err instanceof oauth.OperationProcessingError) || err.code !== oauth.KEY_SELECTION) return false;
  const candidates = (err.cause as { candidates?: unknown[] } | undefined)?.candidates;
  return Array.isArray(candidates) && candidates.length === 0;
}

/**
 * oauth4webapi caches a JWKS per AuthorizationServer object and refetches on an unknown key only
 * once its copy is 60 s old. For a key rotated in the meantime we retry once with a fresh copy of
 * the metadata object and an empty cache, which makes it download the JWKS now.
 */
async function verifySignature(provider: OidcProvider, issuer: IssuerState, response: Response): Promise<void> {
  const options = () => ({ ...requestOptions(provider), [oauth.jwksCache]: issuer.jwks });
  try {
    await oauth.validateApplicationLevelSignature(issuer.as, response, options());
  } catch (err) {
    const fetchedAt = 'uat' in issuer.jwks ? issuer.jwks.uat : 0;
    if (!unknownKey(err) || Date.now() / 1000 - fetchedAt < JWKS_REFETCH_MIN_S) throw err;
    issuer.as = { ...issuer.as };
    issuer.jwks = {};
    await oauth.validateApplicationLevelSignature(issuer.as, response, options());
  }
}

export interface Expected {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirectUri: string;
}

/** The callback after the state was consumed: returns the user's claims, or throws an SsoFailure. */
export async function completeLogin(provider: OidcProvider, issuer: IssuerState, params: URLSearchParams, expected: Expected): Promise<Record<string, unknown>> {
  const { as } = issuer;
  const client = clientOf(provider);
  // RFC 9207: an `iss` parameter, when the provider sends one, must name this issuer. One that is
  // missing is not required even where the metadata announces it: each provider has a callback
  // of its own and the state is bound to its provider, the mix-up defence of RFC 9700 §4.4.2.
  const asForCallback = params.has('iss') ? as : { ...as, authorization_response_iss_parameter_supported: false };
  const callback = await step('provider_error', () => oauth.validateAuthResponse(asForCallback, client, params, expected.state));
  if (!callback.get('code')) throw new SsoFailure('provider_error', 'the provider sent no code');

  const auth = oauth.ClientSecretBasic(provider.clientSecret);
  const response = await step('provider_unreachable', () => oauth.authorizationCodeGrantRequest(as, client, auth, callback, expected.redirectUri, expected.codeVerifier, requestOptions(provider)));
  // Issuer, audience, expiry, iat, nonce and the algorithm the provider announced are checked here.
  const tokens = await step(refusal(provider, 'token_rejected'), () => oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: expected.nonce, requireIdToken: true }));
  await step('id_token_invalid', () => verifySignature(provider, issuer, response));
  const idClaims = oauth.getValidatedIdTokenClaims(tokens);
  if (!idClaims) throw new SsoFailure('id_token_invalid', 'the token response has no ID token');
  if (!provider.userinfo) return { ...idClaims };

  // Core §5.3.4: userinfo claims count only for the subject of the ID token.
  const info = await step(refusal(provider, 'token_rejected'), async () => {
    const r = await step('provider_unreachable', () => oauth.userInfoRequest(as, client, tokens.access_token, requestOptions(provider)));
    return oauth.processUserInfoResponse(as, client, idClaims.sub, r);
  });
  return { ...idClaims, ...info };
}
