import type { AuthorizationServer } from 'oauth4webapi';
import { sha256Hex } from '../src/core/crypto.ts';
import { cacheDiscovery } from '../src/sso/discovery.ts';
import { Browser, dbFor, unique, type Driver } from './helpers.ts';

/**
 * Single sign-on in the worker tier. workerd cannot serve a provider to itself, so these tests
 * seed the discovery document through the exported cache (`cacheDiscovery`) and stop where the
 * portal would talk to the provider; the whole flow against real providers is the black-box
 * tier's (test/sso-*.test.ts). Each provider's issuer is unique to the test file.
 */
export const ISSUER = `https://${unique('idp')}.example`;
export const OTHER_ISSUER = `https://${unique('idp')}.example`;

export const PROVIDERS = [
  { id: 'uni', name: 'University', issuer: ISSUER, client_id: 'edgeport', scopes: ['openid', 'profile', 'groups'], permissions_claim: 'groups', admin_permissions: ['vpn-admins'] },
  { id: 'other-idp', name: 'Other', issuer: OTHER_ISSUER, client_id: 'edgeport-2' },
];

export const SSO_VARS: Record<string, string> = {
  OIDC_PROVIDERS: JSON.stringify(PROVIDERS),
  OIDC_CLIENT_SECRET_UNI: 'uni client secret',
  OIDC_CLIENT_SECRET_OTHER_IDP: 'other client secret',
};

/** A discovery document as a provider would publish it. */
export function metadata(issuer: string): AuthorizationServer {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize?tenant=t1`,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    id_token_signing_alg_values_supported: ['RS256'],
    authorization_response_iss_parameter_supported: true,
  };
}

export function seedDiscovery(): void {
  cacheDiscovery(ISSUER, metadata(ISSUER));
  cacheDiscovery(OTHER_ISSUER, metadata(OTHER_ISSUER));
}

export function ssoBrowser(driver: Driver, vars: Record<string, string> = {}, origin = 'http://portal.test'): Browser {
  return new Browser(driver, undefined, origin, { ...SSO_VARS, ...vars });
}

/** Clicks the provider's button as the login page offers it; returns the start's answer. */
export async function start(b: Browser, providerId = 'uni', next = '/'): Promise<Response> {
  const html = await (await b.fetch(`/login?next=${encodeURIComponent(next)}`)).text();
  const form = new RegExp(`<form[^>]*action="/sso/${providerId}/start"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  if (!form) throw new Error(`no form for ${providerId}`);
  const fields = Object.fromEntries([...form.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1] as string, (m[2] as string).replace(/&amp;/g, '&')]));
  return b.form(`/sso/${providerId}/start`, fields);
}

/** The state a start put into the provider's URL. */
export function stateOf(r: Response): string {
  return new URL(r.headers.get('location') as string).searchParams.get('state') as string;
}

export async function stateRow(driver: Driver, state: string) {
  const db = await dbFor(driver);
  return db.kysely
    .selectFrom('sso_states')
    .selectAll()
    .where('state_hash', '=', await sha256Hex(state))
    .executeTakeFirst();
}

/** `<p id="sso-error" data-code>` of an SSO error page. */
export async function ssoCode(r: Response): Promise<string | null> {
  return /<p\b[^>]*\bid="sso-error"[^>]*\bdata-code="([^"]+)"/.exec(await r.text())?.[1] ?? null;
}

/** An SSO user as the callback leaves one: no local account, `auth_provider` set. */
export async function makeSsoUser(driver: Driver, opts: { providerId?: string; permissions?: string[]; permissionsAt?: number | null; id?: string } = {}): Promise<string> {
  const id = opts.id ?? unique('sso-user');
  const db = await dbFor(driver);
  await db.kysely
    .insertInto('users')
    .values({
      id,
      display_name: `Person ${id}`,
      is_admin: 0,
      is_disabled: 0,
      permissions: JSON.stringify(opts.permissions ?? []),
      created_at: Date.now(),
      last_seen_at: null,
      auth_provider: opts.providerId ?? 'uni',
      permissions_at: opts.permissionsAt === undefined ? Date.now() : opts.permissionsAt,
    })
    .execute();
  return id;
}
