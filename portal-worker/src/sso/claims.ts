import type { OidcProvider } from '../config/sso.ts';

/** What a provider's claims say about the user, in the portal's terms. */
export interface SsoIdentity {
  userId: string;
  permissions: string[];
  isAdmin: boolean;
  /** From the `name` claim; null when the provider sent none (the stored name is then kept). */
  displayName: string | null;
}

export type ClaimsResult = { ok: true; identity: SsoIdentity } | { ok: false; message: string };

// The users.id column is varchar(255); a longer id cannot be stored, a shorter one is never cut.
const MAX_ID = 255;
const MAX_PERMISSION = 255;

/**
 * A permissions claim may be one string or a list of them (providers differ: Keycloak sends a
 * list of groups, some SAML bridges one string); anything else in it is ignored rather than
 * failing the login, since permissions only ever add access.
 */
export function permissionsFrom(value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  const kept = list.filter((p): p is string => typeof p === 'string' && p.length > 0 && p.length <= MAX_PERMISSION);
  return [...new Set(kept)];
}

/** Maps the (merged) claims to the user: the id claim must be a usable string, the rest is optional. */
export function identityFrom(provider: OidcProvider, claims: Record<string, unknown>): ClaimsResult {
  const id = claims[provider.userIdClaim];
  if (typeof id !== 'string' || id.length === 0) return { ok: false, message: `the "${provider.userIdClaim}" claim is missing, empty or not a string` };
  if (id.length > MAX_ID) return { ok: false, message: `the "${provider.userIdClaim}" claim is longer than ${MAX_ID} characters` };
  const permissions = provider.permissionsClaim === null ? [] : permissionsFrom(claims[provider.permissionsClaim]);
  const name = typeof claims.name === 'string' ? claims.name.trim().slice(0, 255) : '';
  return {
    ok: true,
    identity: {
      userId: id,
      permissions,
      isAdmin: provider.adminPermissions.some((p) => permissions.includes(p)),
      displayName: name || null,
    },
  };
}
