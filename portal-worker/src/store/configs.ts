import { sql } from 'kysely';
import type { Db } from '../db/types.ts';

/** Statements that remove every configuration an authorization holds (both protocols). */
export function deleteConfigsOfAuthorization(db: Db, authorizationId: string) {
  return [
    db.kysely.deleteFrom('wg_peers').where('authorization_id', '=', authorizationId),
    db.kysely.deleteFrom('certificates').where('authorization_id', '=', authorizationId),
  ];
}

export function deleteConfigsOfUser(db: Db, userId: string) {
  return [db.kysely.deleteFrom('wg_peers').where('user_id', '=', userId), db.kysely.deleteFrom('certificates').where('user_id', '=', userId)];
}

/** Nodes that carry any configuration of an authorization or a user (to tell them after a change). */
async function nodesHolding(db: Db, column: 'authorization_id' | 'user_id', value: string): Promise<string[]> {
  const rows = await db.kysely
    .selectFrom('wg_peers')
    .select('node_id')
    .where(column, '=', value)
    .union(db.kysely.selectFrom('certificates').select('node_id').where(column, '=', value))
    .execute();
  return [...new Set(rows.map((r) => r.node_id))];
}

export function nodesOfAuthorization(db: Db, authorizationId: string): Promise<string[]> {
  return nodesHolding(db, 'authorization_id', authorizationId);
}

export function nodesOfUser(db: Db, userId: string): Promise<string[]> {
  return nodesHolding(db, 'user_id', userId);
}

/**
 * The user's app authorizations that hold live configurations, oldest first; the eviction
 * order for the per-user limit (eduvpn.md §1.3 step 2).
 */
export async function activeApiAuthorizations(db: Db, userId: string, now: number): Promise<{ authorization_id: string; created: number }[]> {
  const rows = await db.kysely
    .selectFrom((eb) =>
      eb
        .selectFrom('wg_peers')
        .select(['authorization_id', 'created_at'])
        .where('user_id', '=', userId)
        .where('authorization_id', 'is not', null)
        .where('expires_at', '>', now)
        .unionAll(
          eb.selectFrom('certificates').select(['authorization_id', 'created_at']).where('user_id', '=', userId).where('authorization_id', 'is not', null).where('expires_at', '>', now),
        )
        .as('c'),
    )
    .select(['c.authorization_id', sql<number>`min(c.created_at)`.as('created')])
    .groupBy('c.authorization_id')
    .orderBy('created')
    .execute();
  return rows.map((r) => ({ authorization_id: r.authorization_id as string, created: Number(r.created) }));
}

/** Addresses taken on one node for one profile; expired peers no longer hold theirs. */
export async function usedAddresses(db: Db, nodeId: string, profileId: string, now: number, exceptAuthorizations: readonly string[]): Promise<Set<string>> {
  let q = db.kysely
    .selectFrom('wg_peers')
    .select('ip_four')
    .where('node_id', '=', nodeId)
    .where('profile_id', '=', profileId)
    .where('expires_at', '>', now);
  if (exceptAuthorizations.length) q = q.where((eb) => eb.or([eb('authorization_id', 'is', null), eb('authorization_id', 'not in', exceptAuthorizations)]));
  return new Set((await q.execute()).map((r) => r.ip_four));
}

export function deleteExpiredPeers(db: Db, nodeId: string, profileId: string, now: number) {
  return db.kysely.deleteFrom('wg_peers').where('node_id', '=', nodeId).where('profile_id', '=', profileId).where('expires_at', '<=', now);
}

