import { randomToken, sha256Hex } from '../core/crypto.ts';
import type { Compilable } from 'kysely';
import type { Db } from '../core/db.ts';
import { toCurrentUser, type CurrentUser } from './users.ts';

export interface SessionPolicy {
  idleMs: number;
  maxMs: number;
}

// Sliding expiry costs a write; do it at most once a minute per session.
const TOUCH_EVERY_MS = 60_000;

/**
 * Returns the cookie secret; only its hash is stored. `alongside` runs first in the same batch:
 * a single sign-on writes the user's row and its session together, or neither.
 */
export async function createSession(db: Db, userId: string, now: number, policy: SessionPolicy, userAgent: string | null, alongside: readonly Compilable[] = []): Promise<string> {
  const secret = randomToken();
  await db.atomic([
    ...alongside,
    db.kysely.insertInto('browser_sessions').values({
      id_hash: await sha256Hex(secret),
      user_id: userId,
      created_at: now,
      last_seen_at: now,
      expires_at: Math.min(now + policy.idleMs, now + policy.maxMs),
      user_agent: userAgent ? userAgent.slice(0, 255) : null,
    }),
    db.kysely.updateTable('users').set({ last_seen_at: now }).where('id', '=', userId),
    // Housekeeping rides along with logins, the only time sessions are created.
    db.kysely.deleteFrom('browser_sessions').where('expires_at', '<=', now),
  ]);
  return secret;
}

/** The user behind a cookie, or null if the session is unknown, expired, or the user is disabled. */
export async function loadSession(db: Db, secret: string, now: number, policy: SessionPolicy): Promise<CurrentUser | null> {
  const idHash = await sha256Hex(secret);
  const row = await db.kysely
    .selectFrom('browser_sessions')
    .innerJoin('users', 'users.id', 'browser_sessions.user_id')
    .select(['users.id', 'users.display_name', 'users.is_admin', 'users.permissions', 'users.is_disabled', 'browser_sessions.created_at', 'browser_sessions.last_seen_at'])
    .where('browser_sessions.id_hash', '=', idHash)
    .where('browser_sessions.expires_at', '>', now)
    .executeTakeFirst();
  if (!row || row.is_disabled === 1) return null;
  if (now - row.last_seen_at >= TOUCH_EVERY_MS) {
    await db.kysely
      .updateTable('browser_sessions')
      .set({ last_seen_at: now, expires_at: Math.min(now + policy.idleMs, row.created_at + policy.maxMs) })
      .where('id_hash', '=', idHash)
      .execute();
  }
  return toCurrentUser(row);
}

export async function deleteSession(db: Db, secret: string): Promise<void> {
  await db.kysely
    .deleteFrom('browser_sessions')
    .where('id_hash', '=', await sha256Hex(secret))
    .execute();
}
