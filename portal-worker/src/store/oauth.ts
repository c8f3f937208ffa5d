import type { Db } from '../core/db.ts';
import { auditInsert, type AuditContext } from './audit.ts';
import { deleteConfigsOfAuthorization } from './configs.ts';

/** An app an admin registered; the apps every portal knows are domain/oauth-clients.ts. */
export interface RegisteredClient {
  id: string;
  name: string;
  redirectUris: string[];
  requiresApproval: boolean;
}

export async function listClientRows(db: Db) {
  return db.kysely.selectFrom('oauth_clients').selectAll().orderBy('id').execute();
}

export async function findClientRow(db: Db, clientId: string) {
  return db.kysely.selectFrom('oauth_clients').selectAll().where('id', '=', clientId).executeTakeFirst();
}

export type ClientRow = NonNullable<Awaited<ReturnType<typeof findClientRow>>>;

/** Only the id: what removing a client checks, and all its audit row keeps of it. */
export async function findClientId(db: Db, clientId: string) {
  return db.kysely.selectFrom('oauth_clients').select('id').where('id', '=', clientId).executeTakeFirst();
}

export function createClientStatements(db: Db, client: RegisteredClient, now: number, audit: AuditContext) {
  return [
    db.kysely
      .insertInto('oauth_clients')
      .values({ id: client.id, name: client.name, redirect_uris: JSON.stringify(client.redirectUris), requires_approval: client.requiresApproval ? 1 : 0, created_at: now }),
    auditInsert(db, audit, now, 'oauth_client.create', 'oauth_client', client.id, null, client),
  ];
}

/** The client with its codes; its authorizations are ended first, through the node door. */
export function deleteClientStatements(db: Db, before: { id: string }, clientId: string, now: number, audit: AuditContext) {
  return [
    db.kysely.deleteFrom('oauth_codes').where('client_id', '=', clientId),
    db.kysely.deleteFrom('oauth_clients').where('id', '=', clientId),
    auditInsert(db, audit, now, 'oauth_client.delete', 'oauth_client', clientId, before, null),
  ];
}

/** Every authorization made through the client, expired ones too. */
export async function authorizationsOfClient(db: Db, clientId: string): Promise<string[]> {
  const rows = await db.kysely.selectFrom('oauth_authorizations').select('id').where('client_id', '=', clientId).execute();
  return rows.map((r) => r.id);
}

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

/** Whose authorization this is, without the user's state (a user revoking their own). */
export async function findAuthorizationOwner(db: Db, id: string) {
  return db.kysely.selectFrom('oauth_authorizations').select(['id', 'user_id']).where('id', '=', id).executeTakeFirst();
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
