import { sql } from 'kysely';
import type { Change } from '@edgeport/schema';
import { forgetWireguardStart, logWireguardEnd, logWireguardStart } from './connection-log.ts';
import type { Db } from '../core/db.ts';

/** Statements that remove every configuration an authorization holds (both protocols). */
export function deleteConfigsOfAuthorization(db: Db, authorizationId: string, now = Date.now()) {
  return [
    logWireguardEnd(db, 'authorization_id', authorizationId, now),
    db.kysely.deleteFrom('wg_peers').where('authorization_id', '=', authorizationId),
    db.kysely.deleteFrom('certificates').where('authorization_id', '=', authorizationId),
  ];
}

/** Who holds a WireGuard key, if anyone: keys are unique across all configs. */
export async function holderOfKey(db: Db, publicKey: string): Promise<{ node_id: string; user_id: string; authorization_id: string | null } | undefined> {
  return db.kysely.selectFrom('wg_peers').select(['node_id', 'user_id', 'authorization_id']).where('public_key', '=', publicKey).executeTakeFirst();
}

/** Statements that remove the one WireGuard config holding `publicKey`, its log entry closed. */
export function deletePeerStatements(db: Db, publicKey: string, now: number) {
  return [logWireguardEnd(db, 'public_key', publicKey, now), db.kysely.deleteFrom('wg_peers').where('public_key', '=', publicKey)];
}

export function deleteConfigsOfUser(db: Db, userId: string, now = Date.now()) {
  return [logWireguardEnd(db, 'user_id', userId, now), db.kysely.deleteFrom('wg_peers').where('user_id', '=', userId), db.kysely.deleteFrom('certificates').where('user_id', '=', userId)];
}

/**
 * What removing the configurations of an authorization, a user or a profile means to each node
 * that carries them: peer and certificate removals, read before the rows are deleted.
 */
export async function removalsOf(db: Db, column: 'authorization_id' | 'user_id' | 'profile_id', value: string): Promise<Map<string, Change[]>> {
  // One round trip for both tables: this runs on every connect.
  const rows = await db.kysely
    .selectFrom('wg_peers')
    .select(['node_id', 'public_key as key', sql<string>`'peer'`.as('kind')])
    .where(column, '=', value)
    .unionAll(
      db.kysely
        .selectFrom('certificates')
        .select(['node_id', 'common_name as key', sql<string>`'cert'`.as('kind')])
        .where(column, '=', value),
    )
    .execute();
  const out = new Map<string, Change[]>();
  for (const r of rows) {
    const c: Change = r.kind === 'peer' ? { op: 'peer_remove', public_key: r.key } : { op: 'cert_remove', common_name: r.key };
    out.set(r.node_id, [...(out.get(r.node_id) ?? []), c]);
  }
  return out;
}

/**
 * The user's app authorizations that hold live configurations, oldest first; the eviction
 * order for the per-user limit (docs/eduvpn.md §1.3 step 2).
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
        .unionAll(eb.selectFrom('certificates').select(['authorization_id', 'created_at']).where('user_id', '=', userId).where('authorization_id', 'is not', null).where('expires_at', '>', now))
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
  let q = db.kysely.selectFrom('wg_peers').select('ip_four').where('node_id', '=', nodeId).where('profile_id', '=', profileId).where('expires_at', '>', now);
  if (exceptAuthorizations.length) q = q.where((eb) => eb.or([eb('authorization_id', 'is', null), eb('authorization_id', 'not in', exceptAuthorizations)]));
  return new Set((await q.execute()).map((r) => r.ip_four));
}

export function deleteExpiredPeers(db: Db, nodeId: string, profileId: string, now: number) {
  return db.kysely.deleteFrom('wg_peers').where('node_id', '=', nodeId).where('profile_id', '=', profileId).where('expires_at', '<=', now);
}

/** A new WireGuard config on its node; `authorization_id` null for one made in the browser portal. */
export interface NewPeer {
  public_key: string;
  profile_id: string;
  ip_four: string;
  ip_six: string;
  expires_at: number;
  node_id: string;
  user_id: string;
  authorization_id: string | null;
  display_name: string;
  created_at: number;
}

/** The peer and its connection-log row, which opens when the peer is placed (WireGuard has no connect event). */
export function addPeerStatements(db: Db, peer: NewPeer) {
  return [
    db.kysely.insertInto('wg_peers').values(peer),
    logWireguardStart(db, { userId: peer.user_id, profileId: peer.profile_id, nodeId: peer.node_id, publicKey: peer.public_key, ipFour: peer.ip_four, ipSix: peer.ip_six, now: peer.created_at }),
  ];
}

/** Takes back a peer its node never acknowledged: it served nobody, so its log row goes too. */
export function withdrawPeerStatements(db: Db, publicKey: string) {
  return [db.kysely.deleteFrom('wg_peers').where('public_key', '=', publicKey), forgetWireguardStart(db, publicKey)];
}

export type NewCertificate = Omit<NewPeer, 'public_key' | 'ip_four' | 'ip_six'> & { common_name: string };

export function addCertificateStatements(db: Db, certificate: NewCertificate) {
  return [db.kysely.insertInto('certificates').values(certificate)];
}

/** Takes back a certificate its node never acknowledged. */
export function withdrawCertificateStatements(db: Db, commonName: string) {
  return [db.kysely.deleteFrom('certificates').where('common_name', '=', commonName)];
}

/** The live WireGuard peers placed on a node, as a snapshot carries them. */
export async function livePeersOn(db: Db, nodeId: string, now: number) {
  return db.kysely.selectFrom('wg_peers').select(['public_key', 'profile_id', 'ip_four', 'ip_six', 'expires_at']).where('node_id', '=', nodeId).where('expires_at', '>', now).execute();
}

/** The live OpenVPN client certificates placed on a node, as a snapshot carries them. */
export async function liveCertificatesOn(db: Db, nodeId: string, now: number) {
  return db.kysely.selectFrom('certificates').select(['common_name', 'profile_id', 'expires_at']).where('node_id', '=', nodeId).where('expires_at', '>', now).execute();
}

export type PortalConfigKind = 'wireguard' | 'openvpn';

export interface PortalConfigRow {
  kind: PortalConfigKind;
  /** The peer's public key or the certificate's common name. */
  id: string;
  name: string;
  profileId: string;
  createdAt: number;
  expiresAt: number;
}

/** The live configs a user made in the browser portal (rows without an app authorization), oldest first. */
export async function listPortalConfigs(db: Db, userId: string, now: number): Promise<PortalConfigRow[]> {
  const rows = await db.kysely
    .selectFrom('wg_peers')
    .select(['public_key as id', 'display_name', 'profile_id', 'created_at', 'expires_at', sql<string>`'wireguard'`.as('kind')])
    .where('user_id', '=', userId)
    .where('authorization_id', 'is', null)
    .where('expires_at', '>', now)
    .unionAll(
      db.kysely
        .selectFrom('certificates')
        .select(['common_name as id', 'display_name', 'profile_id', 'created_at', 'expires_at', sql<string>`'openvpn'`.as('kind')])
        .where('user_id', '=', userId)
        .where('authorization_id', 'is', null)
        .where('expires_at', '>', now),
    )
    .execute();
  return rows
    .map((r) => ({ kind: r.kind as PortalConfigKind, id: r.id, name: r.display_name, profileId: r.profile_id, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }))
    .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id));
}

/** The node of one of this user's own portal configs; undefined for an app's or someone else's. */
export async function findPortalConfigNode(db: Db, userId: string, kind: PortalConfigKind, id: string): Promise<string | undefined> {
  const row =
    kind === 'wireguard'
      ? await db.kysely.selectFrom('wg_peers').select('node_id').where('public_key', '=', id).where('user_id', '=', userId).where('authorization_id', 'is', null).executeTakeFirst()
      : await db.kysely.selectFrom('certificates').select('node_id').where('common_name', '=', id).where('user_id', '=', userId).where('authorization_id', 'is', null).executeTakeFirst();
  return row?.node_id;
}

/** Statements removing one portal config; a WireGuard peer's open log row is closed first. */
export function deletePortalConfigStatements(db: Db, userId: string, kind: PortalConfigKind, id: string, now: number) {
  if (kind === 'openvpn') return [db.kysely.deleteFrom('certificates').where('common_name', '=', id).where('user_id', '=', userId).where('authorization_id', 'is', null)];
  return [
    db.kysely.updateTable('connection_log').set({ disconnected_at: now }).where('connection_id', '=', id).where('vpn_proto', '=', 'wireguard').where('disconnected_at', 'is', null),
    db.kysely.deleteFrom('wg_peers').where('public_key', '=', id).where('user_id', '=', userId).where('authorization_id', 'is', null),
  ];
}
