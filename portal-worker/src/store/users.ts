import { sql } from 'kysely';
import { isUniqueViolation, type User } from '@edgeport/schema';
import { AppError } from '../core/errors.ts';
import type { Db } from '../core/db.ts';
import { parseList } from './json.ts';
import { auditInsert, type AuditContext } from './audit.ts';
import { deleteConfigsOfUser } from './configs.ts';

export interface CurrentUser {
  id: string;
  displayName: string | null;
  isAdmin: boolean;
  permissions: string[];
}

export interface UserView extends CurrentUser {
  isDisabled: boolean;
  hasLocalAccount: boolean;
  /** The OpenID provider that signs the user in; null for local and admin-created users. */
  authProvider: string | null;
  /** When that provider last set the permissions. */
  permissionsAt: number | null;
  createdAt: number;
  lastSeenAt: number | null;
}

export function toCurrentUser(row: Pick<User, 'id' | 'display_name' | 'is_admin' | 'permissions'>): CurrentUser {
  return {
    id: row.id,
    displayName: row.display_name,
    isAdmin: row.is_admin === 1,
    permissions: parseList(row.permissions),
  };
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db.kysely
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export interface NewLocalUser {
  id: string;
  displayName: string | null;
  passwordHash: string;
  isAdmin: boolean;
  permissions: string[];
}

/** A new, enabled user's row; where the account comes from is the caller's to add. */
function newUserRow(u: { id: string; displayName: string | null; isAdmin: boolean; permissions: string[] }, now: number) {
  return {
    id: u.id,
    display_name: u.displayName,
    is_admin: u.isAdmin ? (1 as const) : (0 as const),
    is_disabled: 0 as const,
    permissions: JSON.stringify(u.permissions),
    created_at: now,
    last_seen_at: null,
  };
}

/** Creates the user and its local account together, or neither. */
export async function createLocalUser(db: Db, u: NewLocalUser, now: number, audit: AuditContext): Promise<void> {
  try {
    await db.atomic([
      db.kysely.insertInto('users').values(newUserRow(u, now)),
      db.kysely.insertInto('local_accounts').values({ user_id: u.id, password_hash: u.passwordHash, created_at: now, updated_at: now }),
      auditInsert(db, audit, now, 'user.create', 'user', u.id, null, {
        id: u.id,
        display_name: u.displayName,
        is_admin: u.isAdmin,
        permissions: u.permissions,
      }),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `user "${u.id}" already exists`);
    throw err;
  }
}

export async function findLocalLogin(db: Db, userId: string) {
  return db.kysely
    .selectFrom('users')
    .innerJoin('local_accounts', 'local_accounts.user_id', 'users.id')
    .select(['users.id', 'users.is_disabled', 'local_accounts.password_hash'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
}

export interface SsoUserValues {
  id: string;
  providerId: string;
  /** null keeps the stored name (the provider sent no `name` claim). */
  displayName: string | null;
  permissions: string[];
  isAdmin: boolean;
}

/** A user seen for the first time at a provider: no local account, `auth_provider` set. */
export function insertSsoUser(db: Db, u: SsoUserValues, now: number, audit: AuditContext) {
  return [
    db.kysely.insertInto('users').values({ ...newUserRow(u, now), auth_provider: u.providerId, permissions_at: now }),
    auditInsert(db, audit, now, 'user.create', 'user', u.id, null, {
      id: u.id,
      display_name: u.displayName,
      is_admin: u.isAdmin,
      permissions: u.permissions,
      auth_provider: u.providerId,
    }),
  ];
}

/**
 * The provider's word replaces what was stored, at every sign-in. The update only touches a row
 * of this provider, so a row that changed hands since it was read is left alone. A change of
 * role or permissions is audited (who became an administrator, and when, is worth keeping).
 */
export function updateSsoUser(db: Db, u: SsoUserValues, before: UserView, now: number, audit: AuditContext) {
  const update = db.kysely
    .updateTable('users')
    .set({ is_admin: u.isAdmin ? 1 : 0, permissions: JSON.stringify(u.permissions), permissions_at: now, ...(u.displayName ? { display_name: u.displayName } : {}) })
    .where('id', '=', u.id)
    .where('auth_provider', '=', u.providerId);
  const changed = before.isAdmin !== u.isAdmin || JSON.stringify(before.permissions) !== JSON.stringify(u.permissions);
  if (!changed) return [update];
  return [update, auditInsert(db, audit, now, 'user.sso_update', 'user', u.id, { is_admin: before.isAdmin, permissions: before.permissions }, { is_admin: u.isAdmin, permissions: u.permissions })];
}

function userViews(db: Db) {
  return db.kysely
    .selectFrom('users')
    .leftJoin('local_accounts', 'local_accounts.user_id', 'users.id')
    .select([
      'users.id',
      'users.display_name',
      'users.is_admin',
      'users.is_disabled',
      'users.permissions',
      'users.created_at',
      'users.last_seen_at',
      'users.auth_provider',
      'users.permissions_at',
      'local_accounts.user_id as local_id',
    ]);
}

type UserViewRow = Awaited<ReturnType<ReturnType<typeof userViews>['executeTakeFirstOrThrow']>>;

function toUserView(row: UserViewRow): UserView {
  return {
    ...toCurrentUser(row),
    isDisabled: row.is_disabled === 1,
    hasLocalAccount: row.local_id !== null,
    authProvider: row.auth_provider,
    permissionsAt: row.permissions_at,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

export async function getUser(db: Db, userId: string): Promise<UserView | null> {
  const row = await userViews(db).where('users.id', '=', userId).executeTakeFirst();
  return row ? toUserView(row) : null;
}

export async function listUsers(db: Db, limit = 500): Promise<UserView[]> {
  const rows = await userViews(db).orderBy('users.id').limit(limit).execute();
  return rows.map(toUserView);
}

export const USER_STATUS_FILTERS = ['all', 'active', 'disabled', 'admins'] as const;
export type UserStatusFilter = (typeof USER_STATUS_FILTERS)[number];

export interface UserListRow extends UserView {
  /** Configurations the user holds now (both protocols, app and portal). */
  configs: number;
}

/** `!` escapes LIKE wildcards: unlike a backslash it means the same in SQLite and MySQL string literals. */
function likePattern(q: string): string {
  return `%${q.toLowerCase().replace(/[!%_]/g, (ch) => `!${ch}`)}%`;
}

/** The admin user list: a case-insensitive substring search on id and display name, and a status filter. */
export async function searchUsers(db: Db, filter: { q: string; status: UserStatusFilter }, now: number, limit = 500): Promise<{ users: UserListRow[]; more: boolean }> {
  let query = userViews(db).select((eb) => [
    eb.selectFrom('wg_peers').select(eb.fn.countAll<number>().as('n')).whereRef('wg_peers.user_id', '=', 'users.id').where('wg_peers.expires_at', '>', now).as('wg_count'),
    eb.selectFrom('certificates').select(eb.fn.countAll<number>().as('n')).whereRef('certificates.user_id', '=', 'users.id').where('certificates.expires_at', '>', now).as('cert_count'),
  ]);
  const q = filter.q.trim();
  if (q) {
    const p = likePattern(q);
    query = query.where(sql<boolean>`(lower(${sql.ref('users.id')}) like ${p} escape '!' or lower(coalesce(${sql.ref('users.display_name')}, '')) like ${p} escape '!')`);
  }
  if (filter.status === 'active') query = query.where('users.is_disabled', '=', 0);
  if (filter.status === 'disabled') query = query.where('users.is_disabled', '=', 1);
  if (filter.status === 'admins') query = query.where('users.is_admin', '=', 1);
  const rows = await query
    .orderBy('users.id')
    .limit(limit + 1)
    .execute();
  return {
    users: rows.slice(0, limit).map((r) => ({ ...toUserView(r), configs: Number(r.wg_count ?? 0) + Number(r.cert_count ?? 0) })),
    more: rows.length > limit,
  };
}

/**
 * Deleting a user removes everything but the logs (docs/eduvpn.md §4): configurations, app
 * authorizations and codes, browser sessions, the local account and the user row, children
 * first (D1 enforces the foreign keys). connection_log and audit_log keep their rows.
 */
export function deleteUserStatements(db: Db, before: UserView, now: number, audit: AuditContext) {
  const id = before.id;
  return [
    ...deleteConfigsOfUser(db, id, now),
    db.kysely.deleteFrom('oauth_codes').where('user_id', '=', id),
    db.kysely.deleteFrom('oauth_authorizations').where('user_id', '=', id),
    db.kysely.deleteFrom('browser_sessions').where('user_id', '=', id),
    db.kysely.deleteFrom('local_accounts').where('user_id', '=', id),
    db.kysely.deleteFrom('users').where('id', '=', id),
    auditInsert(db, audit, now, 'user.delete', 'user', id, before, null),
  ];
}

/**
 * The statements that disable or enable a user. Disabling takes effect at once (the flag is
 * checked on every session lookup) and ends everything the user holds in the same batch
 * (upstream: kills all configs, revokes all apps); the node-visible part goes through the node
 * door in domain/user-commands.ts.
 */
export function setUserDisabledStatements(db: Db, before: UserView, disabled: boolean, now: number, audit: AuditContext) {
  const userId = before.id;
  const ending = disabled
    ? [
        db.kysely.deleteFrom('browser_sessions').where('user_id', '=', userId),
        ...deleteConfigsOfUser(db, userId),
        db.kysely.updateTable('oauth_codes').set({ authorization_id: null }).where('user_id', '=', userId),
        db.kysely.deleteFrom('oauth_authorizations').where('user_id', '=', userId),
      ]
    : [];
  return [
    db.kysely
      .updateTable('users')
      .set({ is_disabled: disabled ? 1 : 0 })
      .where('id', '=', userId),
    ...ending,
    auditInsert(db, audit, now, disabled ? 'user.disable' : 'user.enable', 'user', userId, { is_disabled: before.isDisabled }, { is_disabled: disabled }),
  ];
}

/**
 * A local account's new password hash, with every other browser session of the user ended in the
 * same batch (a stolen session must not outlive the change); the session hashed `keepHash` stays.
 */
export function changePasswordStatements(db: Db, userId: string, hash: string, keepHash: string, now: number, audit: AuditContext) {
  return [
    db.kysely.updateTable('local_accounts').set({ password_hash: hash, updated_at: now }).where('user_id', '=', userId),
    db.kysely.deleteFrom('browser_sessions').where('user_id', '=', userId).where('id_hash', '!=', keepHash),
    // No before/after: the row records that it happened, never anything about the hash.
    auditInsert(db, audit, now, 'user.password_change', 'user', userId, null, null),
  ];
}

/** Only the flag: whether the user may still be given an authorization. */
export async function findUserDisabled(db: Db, userId: string) {
  return db.kysely.selectFrom('users').select(['is_disabled']).where('id', '=', userId).executeTakeFirst();
}

export async function setPasswordHash(db: Db, userId: string, hash: string, now: number): Promise<void> {
  await db.kysely.updateTable('local_accounts').set({ password_hash: hash, updated_at: now }).where('user_id', '=', userId).execute();
}
