import * as oauth from 'oauth4webapi';
import type { OidcProvider } from '../config/sso.ts';

/**
 * A provider that cannot be reached or answers 5xx. Raised by the one fetch every request to a
 * provider goes through, so that discovery, JWKS, token and userinfo failures of the transport
 * kind are told apart from the provider refusing something (which oauth4webapi reports itself).
 */
export class ProviderUnreachable extends Error {
  override name = 'ProviderUnreachable';
}

// A provider that does not answer must not hold a login request (and a Worker) for minutes.
const PROVIDER_TIMEOUT_MS = 10_000;

async function providerFetch(url: string, init: oauth.CustomFetchOptions<string, unknown>): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(url, { ...(init as RequestInit), signal: init.signal ?? AbortSignal.timeout(PROVIDER_TIMEOUT_MS) });
  } catch (err) {
    throw new ProviderUnreachable(`${new URL(url).origin} did not answer: ${(err as Error).message}`);
  }
  if (res.status >= 500) {
    await res.body?.cancel();
    throw new ProviderUnreachable(`${new URL(url).origin}${new URL(url).pathname} answered ${res.status}`);
  }
  return res;
}

/** The options every oauth4webapi request to this provider takes; plain http only for loopback issuers. */
export function requestOptions(provider: OidcProvider) {
  return { [oauth.customFetch]: providerFetch, ...(provider.insecure ? { [oauth.allowInsecureRequests]: true } : {}) };
}

/** What this isolate knows of one issuer: its metadata and the JWKS cache oauth4webapi fills. */
export interface IssuerState {
  as: oauth.AuthorizationServer;
  fetchedAt: number;
  jwks: oauth.JWKSCacheInput;
}

// Per isolate, like the config: metadata changes rarely, and a stale copy only costs one retry
// after an hour. Keyed by the issuer URL, so providers sharing an issuer share its keys.
const DISCOVERY_TTL_MS = 60 * 60_000;
const issuers = new Map<string, IssuerState>();
const pending = new Map<string, Promise<IssuerState>>();

const key = (issuer: string) => new URL(issuer).href;

/**
 * Test seam: installs an issuer's metadata as if discovery had just fetched it. The worker tier
 * cannot serve a provider to itself, so it seeds the document; the black-box tier runs a real
 * provider and never calls this.
 */
export function cacheDiscovery(issuer: string, as: oauth.AuthorizationServer, now = Date.now()): IssuerState {
  const state: IssuerState = { as, fetchedAt: now, jwks: {} };
  issuers.set(key(issuer), state);
  return state;
}

/** The cached state without any fetch (for the login page's CSP), or null. */
export function cachedIssuer(issuer: string, now = Date.now()): IssuerState | null {
  const hit = issuers.get(key(issuer));
  return hit && now - hit.fetchedAt < DISCOVERY_TTL_MS ? hit : null;
}

/** The issuer's metadata (OIDC Discovery 1.0), fetched at most once an hour per isolate; concurrent callers share one fetch. */
export async function discover(provider: OidcProvider, now = Date.now()): Promise<IssuerState> {
  const hit = cachedIssuer(provider.issuer, now);
  if (hit) return hit;
  const k = key(provider.issuer);
  let p = pending.get(k);
  if (!p) {
    p = (async () => {
      const issuer = new URL(provider.issuer);
      const response = await oauth.discoveryRequest(issuer, requestOptions(provider));
      // Checks that the document names exactly this issuer (Discovery §4.3).
      const as = await oauth.processDiscoveryResponse(issuer, response);
      const previous = issuers.get(k);
      // Keys fetched under the old document stay usable; oauth4webapi refetches them when stale.
      const state: IssuerState = { as, fetchedAt: Date.now(), jwks: previous?.jwks ?? {} };
      issuers.set(k, state);
      return state;
    })().finally(() => pending.delete(k));
    pending.set(k, p);
  }
  return p;
}

/**
 * Fetches the providers' metadata that is not cached yet, waiting at most `maxMs`: the login page
 * wants each authorization endpoint's origin for its CSP. A slow or failing provider only means
 * the page falls back to the issuer's origin; the page itself never fails on it.
 */
export async function warmDiscovery(providers: readonly OidcProvider[], maxMs: number): Promise<void> {
  const missing = providers.filter((p) => !cachedIssuer(p.issuer));
  if (!missing.length) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.allSettled(missing.map((p) => discover(p))), new Promise((resolve) => (timer = setTimeout(resolve, maxMs)))]);
  clearTimeout(timer);
}

/**
 * Where the login page's provider forms may lead: browsers apply CSP form-action to the redirect
 * after a submit too, so the 303 to the provider must be allowed by the login page's policy. The
 * issuer's origin always is; an authorization endpoint on another origin once discovery knows it.
 */
export function authorizationOrigins(providers: readonly OidcProvider[], now = Date.now()): string[] {
  const origins = new Set<string>();
  for (const p of providers) {
    origins.add(new URL(p.issuer).origin);
    const endpoint = cachedIssuer(p.issuer, now)?.as.authorization_endpoint;
    try {
      if (typeof endpoint === 'string') origins.add(new URL(endpoint).origin);
    } catch {
      // A malformed endpoint fails at the start with provider_unreachable; the page still renders.
    }
  }
  return [...origins];
}
