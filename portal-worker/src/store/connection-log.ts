import { sql } from 'kysely';
import type { Db } from '../core/db.ts';

/**
 * The connection log answers "who had address X at time T" (docs/eduvpn.md §3.7). WireGuard rows
 * span a configuration's life on a node, as upstream logs WireGuard (there is no tunnel-level
 * connect event); OpenVPN rows span the real connection, from the node's events.
 */
export function logWireguardStart(db: Db, row: { userId: string; profileId: string; nodeId: string; publicKey: string; ipFour: string; ipSix: string; now: number }) {
  return db.kysely.insertInto('connection_log').values({
    user_id: row.userId,
    profile_id: row.profileId,
    node_id: row.nodeId,
    vpn_proto: 'wireguard',
    connection_id: row.publicKey,
    ip_four: row.ipFour,
    ip_six: row.ipSix,
    originating_ip: null,
    connected_at: row.now,
    disconnected_at: null,
    bytes_in: null,
    bytes_out: null,
  });
}

/** A configuration that never reached its node leaves no trace in the log. */
export function forgetWireguardStart(db: Db, publicKey: string) {
  return db.kysely.deleteFrom('connection_log').where('connection_id', '=', publicKey).where('disconnected_at', 'is', null);
}

/** Closes the open rows of the WireGuard peers that a removal is about to delete (run before the delete). */
export function logWireguardEnd(db: Db, column: 'authorization_id' | 'user_id' | 'profile_id' | 'node_id' | 'public_key', value: string, now: number) {
  return db.kysely
    .updateTable('connection_log')
    .set({ disconnected_at: now })
    .where('disconnected_at', 'is', null)
    .where('vpn_proto', '=', 'wireguard')
    .where('connection_id', 'in', db.kysely.selectFrom('wg_peers').select('public_key').where(column, '=', value));
}

export interface OpenvpnEventRow {
  event: 'connect' | 'disconnect';
  at: number;
  nodeId: string;
  profileId: string;
  commonName: string;
  ipFour: string | null;
  ipSix: string | null;
  originatingIp: string | null;
  rx?: number;
  tx?: number;
}

/** OpenVPN connect and disconnect events from a node; the user comes from the certificate row. */
export async function logOpenvpnEvent(db: Db, e: OpenvpnEventRow): Promise<void> {
  if (e.event === 'connect') {
    const cert = await db.kysely.selectFrom('certificates').select(['user_id']).where('common_name', '=', e.commonName).executeTakeFirst();
    if (!cert) return; // a certificate deleted meanwhile: the node will halt that client
    await db.kysely
      .insertInto('connection_log')
      .values({
        user_id: cert.user_id,
        profile_id: e.profileId,
        node_id: e.nodeId,
        vpn_proto: 'openvpn',
        connection_id: e.commonName,
        ip_four: e.ipFour,
        ip_six: e.ipSix,
        originating_ip: e.originatingIp,
        connected_at: e.at,
        disconnected_at: null,
        bytes_in: null,
        bytes_out: null,
      })
      .execute();
    return;
  }
  await db.kysely
    .updateTable('connection_log')
    .set({ disconnected_at: e.at, bytes_in: e.rx ?? null, bytes_out: e.tx ?? null })
    .where('connection_id', '=', e.commonName)
    .where('node_id', '=', e.nodeId)
    .where('disconnected_at', 'is', null)
    .execute();
}

/**
 * Who had this address (either family) at this moment, or at any moment of [at, until] (a
 * search by the minute covers the whole minute). `ip` may list spellings of one address.
 */
export async function whoHad(db: Db, ip: string | readonly string[], at: number, until = at) {
  const spellings = typeof ip === 'string' ? [ip] : [...ip];
  return db.kysely
    .selectFrom('connection_log')
    .selectAll()
    .where((eb) => eb.or([eb('ip_four', 'in', spellings), eb('ip_six', 'in', spellings)]))
    .where('connected_at', '<=', until)
    .where((eb) => eb.or([eb('disconnected_at', 'is', null), eb('disconnected_at', '>=', at)]))
    .orderBy('connected_at', 'desc')
    .limit(50)
    .execute();
}

/** Session counts per minute: the highest a node reported in that minute is kept. */
export async function recordSessions(db: Db, nodeId: string, minute: number, counts: readonly { profile_id: string; protocol: 'wireguard' | 'openvpn'; count: number }[]): Promise<void> {
  if (!counts.length) return;
  const rows = counts.map((c) => ({ node_id: nodeId, profile_id: c.profile_id, vpn_proto: c.protocol, minute, sessions: c.count }));
  const insert = db.kysely.insertInto('session_stats').values(rows);
  if (db.dialect === 'mysql') {
    await insert.onDuplicateKeyUpdate({ sessions: sql`greatest(sessions, values(sessions))` }).execute();
  } else {
    await insert.onConflict((oc) => oc.columns(['node_id', 'profile_id', 'vpn_proto', 'minute']).doUpdateSet({ sessions: sql`max(sessions, excluded.sessions)` })).execute();
  }
}
