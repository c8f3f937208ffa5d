import { z } from 'zod';

/** One OpenID provider as the rest of the portal sees it: parsed, defaulted, with its secret. */
export interface OidcProvider {
  id: string;
  name: string;
  /** The issuer exactly as configured; discovery and the ID token's `iss` are checked against it. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes: string[];
  userIdClaim: string;
  /** null: the provider grants no permissions. */
  permissionsClaim: string | null;
  adminPermissions: string[];
  userinfo: boolean;
  /** A plain-http issuer on a loopback host (development and tests); never true for anything else. */
  insecure: boolean;
}

export interface SsoConfig {
  providers: OidcProvider[];
  localLogin: boolean;
  recheckOnConnect: boolean;
  permissionsMaxAgeMs: number;
}

/** 127.0.0.0/8, localhost and [::1]: the only hosts a plain-http issuer may have. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname);
}

const claimName = z.string().min(1).max(255);

const issuer = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'not a URL' });
    return;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: 'must be https (plain http only on loopback hosts: 127.0.0.0/8, localhost, [::1])' });
  }
  // OIDC Discovery §4.1: an issuer is a URL without query or fragment.
  if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'an issuer has no query or fragment' });
});

// strict(): a misspelt key (say "permission_claim") would otherwise silently grant nothing.
const ProviderSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'lower-case letters, digits and "-", 1 to 32, not starting with "-"'),
    name: z.string().trim().min(1).max(100),
    issuer,
    client_id: z.string().min(1).max(255),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes'))
      .default(['openid'])
      .refine((s) => s.includes('openid'), 'must include "openid"'),
    user_id_claim: claimName.default('sub'),
    permissions_claim: claimName.optional(),
    admin_permissions: z.array(z.string().min(1)).default([]),
    userinfo: z.boolean().default(false),
  })
  .strict();

const ProvidersSchema = z.array(ProviderSchema).superRefine((list, ctx) => {
  const seen = new Set<string>();
  list.forEach((p, i) => {
    if (seen.has(p.id)) ctx.addIssue({ code: 'custom', path: [i, 'id'], message: `"${p.id}" is used twice` });
    seen.add(p.id);
  });
});

/** `OIDC_CLIENT_SECRET_<ID>`: the id upper-cased, "-" as "_" (secret names allow no "-"). */
export function secretName(id: string): string {
  return `OIDC_CLIENT_SECRET_${id.toUpperCase().replace(/-/g, '_')}`;
}

const flag = (name: string, value: unknown, def: boolean, issues: string[]): boolean => {
  if (value === undefined || value === '') return def;
  if (value === 'true' || value === 'false') return value === 'true';
  issues.push(`${name}: must be "true" or "false"`);
  return def;
};

function path(parts: readonly PropertyKey[]): string {
  return parts.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
}

/**
 * The single sign-on part of the configuration. Returns the problems as messages naming the
 * variable and field (`OIDC_PROVIDERS[0].issuer: …`) so that the config error says what to fix.
 */
export function parseSsoConfig(env: Record<string, unknown>, sessionMaxMinutes: number): { config: SsoConfig; issues: string[] } {
  const issues: string[] = [];
  const providers: OidcProvider[] = [];
  const raw = env.OIDC_PROVIDERS;
  if (raw !== undefined && raw !== '') {
    let json: unknown;
    try {
      json = typeof raw === 'string' ? JSON.parse(raw) : raw;
    } catch {
      issues.push('OIDC_PROVIDERS: not valid JSON (a JSON array of providers)');
    }
    const parsed = issues.length ? null : ProvidersSchema.safeParse(json);
    if (parsed && !parsed.success) issues.push(...parsed.error.issues.map((i) => `OIDC_PROVIDERS${path(i.path)}: ${i.message}`));
    for (const p of parsed?.success ? parsed.data : []) {
      const secret = env[secretName(p.id)];
      if (typeof secret !== 'string' || !secret) issues.push(`${secretName(p.id)}: the client secret of provider "${p.id}" is not set`);
      const url = new URL(p.issuer);
      providers.push({
        id: p.id,
        name: p.name,
        issuer: p.issuer,
        clientId: p.client_id,
        clientSecret: typeof secret === 'string' ? secret : '',
        scopes: p.scopes,
        userIdClaim: p.user_id_claim,
        permissionsClaim: p.permissions_claim ?? null,
        adminPermissions: p.admin_permissions,
        userinfo: p.userinfo,
        insecure: url.protocol === 'http:',
      });
    }
  }
  const localLogin = flag('LOCAL_LOGIN', env.LOCAL_LOGIN, true, issues);
  const recheckOnConnect = flag('SSO_RECHECK_ON_CONNECT', env.SSO_RECHECK_ON_CONNECT, false, issues);
  // Nobody could sign in at all, the administrators included.
  if (!localLogin && !providers.length && !issues.length) issues.push('LOCAL_LOGIN: "false" needs at least one provider in OIDC_PROVIDERS');
  const maxAge = z.coerce
    .number()
    .int()
    .min(1)
    .max(365 * 24 * 60)
    .default(sessionMaxMinutes)
    .safeParse(env.SSO_PERMISSIONS_MAX_AGE_MINUTES === '' ? undefined : env.SSO_PERMISSIONS_MAX_AGE_MINUTES);
  if (!maxAge.success) issues.push('SSO_PERMISSIONS_MAX_AGE_MINUTES: a whole number of minutes, 1 or more');
  return {
    config: { providers, localLogin, recheckOnConnect, permissionsMaxAgeMs: (maxAge.success ? maxAge.data : sessionMaxMinutes) * 60_000 },
    issues,
  };
}
