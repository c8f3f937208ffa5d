import type { Db } from '../db/types.ts';
import { auditInsert, type AuditContext } from './audit.ts';
import { deleteConfigsOfAuthorization } from './configs.ts';

export interface NewCode {
  codeHash: string;
  userId: string;
  clientId: string;
  redirectUri: string;
  challenge: string;
  scope: string;
  expiresAt: number;
}

export async function createCode(db: Db, c: NewCode, now: number): Promise<void> {
  await db.atomic([
    db.kysely.insertInto('oauth_codes').values({
      code_hash: c.codeHash,
      user_id: c.userId,
      client_id: c.clientId,
      redirect_uri: c.redirectUri,
      code_challenge: c.challenge,
      scope: c.scope,
      created_at: now,
      expires_at: c.expiresAt,
      used_at: null,
      authorization_id: null,
    }),
    // Housekeeping rides along: codes live five minutes, so old ones are only clutter.
    db.kysely.deleteFrom('oauth_codes').where('expires_at', '<', now - 24 * 3_600_000),
  ]);
}

/**
 * Marks the code used, once: the conditional update is the single-use guarantee across every
 * edge instance. Returns the row when this call consumed it, or `reused` with the row when it
 * had been consumed before.
 */
export async function consumeCode(db: Db, codeHash: string, now: number) {
  const row = await db.kysely.selectFrom('oauth_codes').selectAll().where('code_hash', '=', codeHash).executeTakeFirst();
  if (!row) return { kind: 'unknown' as const };
  if (row.used_at !== null) return { kind: 'reused' as const, row };
  const r = await db.kysely.updateTable('oauth_codes').set({ used_at: now }).where('code_hash', '=', codeHash).where('used_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return { kind: 'reused' as const, row };
  return { kind: 'consumed' as const, row };
}

export interface NewAuthorization {
  id: string;
  userId: string;
  clientId: string;
  scope: string;
  expiresAt: number;
  codeHash: string;
}

export async function createAuthorization(db: Db, a: NewAuthorization, now: number, audit: AuditContext): Promise<void> {
  await db.atomic([
    db.kysely.insertInto('oauth_authorizations').values({
      id: a.id,
      user_id: a.userId,
      client_id: a.clientId,
      scope: a.scope,
      created_at: now,
      expires_at: a.expiresAt,
      refresh_seq: 0,
      last_used_at: now,
    }),
    db.kysely.updateTable('oauth_codes').set({ authorization_id: a.id }).where('code_hash', '=', a.codeHash),
    auditInsert(db, audit, now, 'oauth.authorize', 'authorization', a.id, null, { user_id: a.userId, client_id: a.clientId, expires_at: a.expiresAt }),
  ]);
}

/** The authorization with its user's state; callers refuse expired ones and disabled users. */
export async function findAuthorization(db: Db, id: string) {
  return db.kysely
    .selectFrom('oauth_authorizations')
    .innerJoin('users', 'users.id', 'oauth_authorizations.user_id')
    .select([
      'oauth_authorizations.id',
      'oauth_authorizations.user_id',
      'oauth_authorizations.client_id',
      'oauth_authorizations.scope',
      'oauth_authorizations.created_at',
      'oauth_authorizations.expires_at',
      'oauth_authorizations.refresh_seq',
      'users.is_disabled',
      'users.permissions',
      'users.auth_provider',
      'users.permissions_at',
    ])
    .where('oauth_authorizations.id', '=', id)
    .executeTakeFirst();
}

/** Rotation as compare-and-set: exactly one caller moves `seq` forward; a loser holds a replayed token. */
export async function rotateRefresh(db: Db, id: string, seq: number, now: number): Promise<boolean> {
  const r = await db.kysely
    .updateTable('oauth_authorizations')
    .set({ refresh_seq: seq + 1, last_used_at: now })
    .where('id', '=', id)
    .where('refresh_seq', '=', seq)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** Statements deleting an authorization and what hangs off it (the cascade is ours, see README). */
export function deleteAuthorizationStatements(db: Db, id: string, now: number, action: string, audit: AuditContext) {
  return [
    ...deleteConfigsOfAuthorization(db, id),
    db.kysely.updateTable('oauth_codes').set({ authorization_id: null }).where('authorization_id', '=', id),
    db.kysely.deleteFrom('oauth_authorizations').where('id', '=', id),
    auditInsert(db, audit, now, action, 'authorization', id, null, null),
  ];
}

export async function listAuthorizations(db: Db, userId: string, now: number) {
  return db.kysely
    .selectFrom('oauth_authorizations')
    .select(['id', 'client_id', 'created_at', 'expires_at', 'last_used_at'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .execute();
}
