import type { Db } from '../core/db.ts';
import { listConfigs, type ConfigRow } from './live-sessions.ts';
import { listAuthorizations } from './oauth.ts';
import { getUser, type UserView } from './users.ts';

export interface ConnectionLogEntry {
  protocol: 'wireguard' | 'openvpn';
  profileId: string;
  nodeId: string;
  ipFour: string | null;
  ipSix: string | null;
  connectedAt: number;
  disconnectedAt: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
}

export interface UserDetail {
  user: UserView;
  configs: ConfigRow[];
  apps: { id: string; clientId: string; createdAt: number; expiresAt: number; lastUsedAt: number | null }[];
  connections: ConnectionLogEntry[];
  /** Display names of the profiles and nodes the lists mention (deleted ones are shown by id). */
  profileNames: Map<string, string>;
  nodeNames: Map<string, string>;
}

/** Upstream's user page shows the recent connection log; older rows are for the log search. */
const RECENT_CONNECTIONS = 50;

export async function userConnections(db: Db, userId: string, limit = RECENT_CONNECTIONS): Promise<ConnectionLogEntry[]> {
  const rows = await db.kysely.selectFrom('connection_log').selectAll().where('user_id', '=', userId).orderBy('connected_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    protocol: r.vpn_proto,
    profileId: r.profile_id,
    nodeId: r.node_id,
    ipFour: r.ip_four,
    ipSix: r.ip_six,
    connectedAt: r.connected_at,
    disconnectedAt: r.disconnected_at,
    bytesIn: r.bytes_in === null ? null : Number(r.bytes_in),
    bytesOut: r.bytes_out === null ? null : Number(r.bytes_out),
  }));
}

export async function userDetail(db: Db, userId: string, now: number): Promise<UserDetail | null> {
  const user = await getUser(db, userId);
  if (!user) return null;
  const [configs, apps, connections, profiles, nodes] = await Promise.all([
    listConfigs(db, { userId }),
    listAuthorizations(db, userId, now),
    userConnections(db, userId),
    db.kysely.selectFrom('profiles').select(['id', 'display_name']).execute(),
    db.kysely.selectFrom('nodes').select(['id', 'name']).execute(),
  ]);
  return {
    user,
    configs,
    apps: apps.map((a) => ({ id: a.id, clientId: a.client_id, createdAt: a.created_at, expiresAt: a.expires_at, lastUsedAt: a.last_used_at })),
    connections,
    profileNames: new Map(profiles.map((p) => [p.id, p.display_name])),
    nodeNames: new Map(nodes.map((n) => [n.id, n.name])),
  };
}
