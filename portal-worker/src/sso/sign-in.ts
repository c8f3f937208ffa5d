import { isUniqueViolation } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import { createSession, type SessionPolicy } from '../store/sessions.ts';
import { getUser, insertSsoUser, updateSsoUser, type SsoUserValues } from '../store/users.ts';
import type { SsoIdentity } from './claims.ts';
import type { OidcProvider } from '../config/sso.ts';

export type SignInResult = { ok: true; sessionSecret: string } | { ok: false; code: 'account_conflict' | 'disabled'; message: string };

export interface SignInContext {
  now: number;
  policy: SessionPolicy;
  userAgent: string | null;
  requestId: string;
}

/**
 * After the provider vouched for the user: create them on first sight, refuse a user name that
 * belongs to a local account or to another provider (taking it over would hand that account to
 * whoever the provider calls by the same name), refuse a disabled user, else store the provider's
 * permissions and role and open a browser session, in one batch.
 */
export async function ssoSignIn(db: Db, provider: OidcProvider, identity: SsoIdentity, ctx: SignInContext): Promise<SignInResult> {
  const values: SsoUserValues = { id: identity.userId, providerId: provider.id, displayName: identity.displayName, permissions: identity.permissions, isAdmin: identity.isAdmin };
  const audit = { actorUserId: identity.userId, requestId: ctx.requestId };
  const open = (statements: Parameters<typeof createSession>[5]) => createSession(db, identity.userId, ctx.now, ctx.policy, ctx.userAgent, statements);
  // Two first logins of one user can race: the loser's insert fails and it goes on as a returning user.
  for (let attempt = 0; attempt < 2; attempt++) {
    const before = await getUser(db, identity.userId);
    if (!before) {
      try {
        return { ok: true, sessionSecret: await open(insertSsoUser(db, values, ctx.now, audit)) };
      } catch (err) {
        if (isUniqueViolation(err)) continue;
        throw err;
      }
    }
    if (before.hasLocalAccount || before.authProvider !== provider.id) {
      const owner = before.hasLocalAccount ? 'a local account' : before.authProvider ? `provider "${before.authProvider}"` : 'an account without a password';
      return { ok: false, code: 'account_conflict', message: `user "${identity.userId}" belongs to ${owner}` };
    }
    if (before.isDisabled) return { ok: false, code: 'disabled', message: `user "${identity.userId}" is disabled` };
    return { ok: true, sessionSecret: await open(updateSsoUser(db, values, before, ctx.now, audit)) };
  }
  throw new Error(`user "${identity.userId}" could be neither created nor read`);
}
