import type { Change, NodeMessage } from '@edgeport/schema';
import type { Db } from '../core/db.ts';

type SessionsMessage = Extract<NodeMessage, { type: 'sessions' }>;
/** What a node's latest `sessions` report says per peer and client (kept by its NodeChannel). */
export type SessionsSnapshot = Pick<SessionsMessage, 'at' | 'peers' | 'clients'>;
export type VpnProtocol = 'wireguard' | 'openvpn';

/** A configuration placed on a node: a WireGuard peer or an OpenVPN client certificate. */
export interface ConfigRow {
  protocol: VpnProtocol;
  /** WireGuard public key or certificate common name: what the node knows it by. */
  key: string;
  userId: string;
  profileId: string;
  nodeId: string;
  /** Set for configurations an app obtained; null for ones made in the portal. */
  authorizationId: string | null;
  displayName: string;
  /** OpenVPN addresses are handed out by the node per connection, so only WireGuard has them here. */
  ipFour: string | null;
  ipSix: string | null;
  createdAt: number;
  expiresAt: number;
}

export interface ConfigFilter {
  userId?: string;
  /** Only configurations still valid at this time. */
  liveAt?: number;
}

/** Both tables, read separately (a UNION of unlike columns is typed differently by each dialect). */
export async function listConfigs(db: Db, filter: ConfigFilter): Promise<ConfigRow[]> {
  let peers = db.kysely.selectFrom('wg_peers').selectAll();
  let certs = db.kysely.selectFrom('certificates').selectAll();
  if (filter.userId !== undefined) {
    peers = peers.where('user_id', '=', filter.userId);
    certs = certs.where('user_id', '=', filter.userId);
  }
  if (filter.liveAt !== undefined) {
    peers = peers.where('expires_at', '>', filter.liveAt);
    certs = certs.where('expires_at', '>', filter.liveAt);
  }
  const [p, c] = await Promise.all([peers.execute(), certs.execute()]);
  const rows: ConfigRow[] = [
    ...p.map((r) => ({
      protocol: 'wireguard' as const,
      key: r.public_key,
      userId: r.user_id,
      profileId: r.profile_id,
      nodeId: r.node_id,
      authorizationId: r.authorization_id,
      displayName: r.display_name,
      ipFour: r.ip_four,
      ipSix: r.ip_six,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    })),
    ...c.map((r) => ({
      protocol: 'openvpn' as const,
      key: r.common_name,
      userId: r.user_id,
      profileId: r.profile_id,
      nodeId: r.node_id,
      authorizationId: r.authorization_id,
      displayName: r.display_name,
      ipFour: null,
      ipSix: null,
      createdAt: r.created_at,
      expiresAt: r.expires_at,
    })),
  ];
  return rows.sort((a, b) => a.userId.localeCompare(b.userId) || a.createdAt - b.createdAt || a.key.localeCompare(b.key));
}

export async function findConfig(db: Db, protocol: VpnProtocol, key: string): Promise<ConfigRow | null> {
  const row =
    protocol === 'wireguard'
      ? await db.kysely.selectFrom('wg_peers').selectAll().where('public_key', '=', key).executeTakeFirst()
      : await db.kysely.selectFrom('certificates').selectAll().where('common_name', '=', key).executeTakeFirst();
  if (!row) return null;
  const ips = 'ip_four' in row ? { ipFour: row.ip_four, ipSix: row.ip_six } : { ipFour: null, ipSix: null };
  return {
    protocol,
    key,
    userId: row.user_id,
    profileId: row.profile_id,
    nodeId: row.node_id,
    authorizationId: row.authorization_id,
    displayName: row.display_name,
    ...ips,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Removes one configuration. A WireGuard row in the connection log spans the peer's life on its
 * node, so it closes now; an OpenVPN row closes with the node's disconnect event when it halts
 * the client.
 */
export function deleteConfigStatements(db: Db, c: ConfigRow, now: number) {
  if (c.protocol === 'openvpn') return [db.kysely.deleteFrom('certificates').where('common_name', '=', c.key)];
  return [
    db.kysely.updateTable('connection_log').set({ disconnected_at: now }).where('connection_id', '=', c.key).where('vpn_proto', '=', 'wireguard').where('disconnected_at', 'is', null),
    db.kysely.deleteFrom('wg_peers').where('public_key', '=', c.key),
  ];
}

export function removalOf(c: ConfigRow): Change {
  return c.protocol === 'wireguard' ? { op: 'peer_remove', public_key: c.key } : { op: 'cert_remove', common_name: c.key };
}

/** Profiles, which node serves which, and node names: the skeleton of the connections page. */
export async function profilesAndNodes(db: Db) {
  const [profiles, served, nodes] = await Promise.all([
    db.kysely.selectFrom('profiles').select(['id', 'display_name']).orderBy('display_name').orderBy('id').execute(),
    db.kysely.selectFrom('node_profiles').select(['profile_id', 'node_id']).execute(),
    db.kysely.selectFrom('nodes').select(['id', 'name']).orderBy('name').execute(),
  ]);
  return {
    profiles: profiles.map((p) => ({ id: p.id, displayName: p.display_name })),
    served: served.map((s) => ({ profileId: s.profile_id, nodeId: s.node_id })),
    nodes: nodes.map((n) => ({ id: n.id, name: n.name })),
  };
}
