import type { Db } from '../core/db.ts';

type Counts = Map<string, number>;
export const usageKey = (nodeId: string, profileId: string) => `${nodeId}\u0000${profileId}`;

async function liveCounts(db: Db, table: 'wg_peers' | 'certificates', now: number, profileId?: string): Promise<Counts> {
  let q = db.kysely
    .selectFrom(table)
    .select((eb) => ['node_id', 'profile_id', eb.fn.countAll<number>().as('n')])
    .where('expires_at', '>', now)
    .groupBy(['node_id', 'profile_id']);
  if (profileId !== undefined) q = q.where('profile_id', '=', profileId);
  return new Map((await q.execute()).map((r) => [usageKey(r.node_id, r.profile_id), Number(r.n)]));
}

/** Each node's assignments with the rows behind its address room: live WireGuard peers and OpenVPN certificates per (node, profile). */
export async function usageRows(db: Db, now: number, onlyProfile?: string) {
  let assigned = db.kysely
    .selectFrom('node_profiles')
    .innerJoin('nodes', 'nodes.id', 'node_profiles.node_id')
    .select(['node_profiles.node_id', 'node_profiles.profile_id', 'node_profiles.wg_range_four', 'node_profiles.ovpn_range_four', 'nodes.revoked_at', 'nodes.wg_public_key'])
    .orderBy('node_profiles.node_id');
  if (onlyProfile !== undefined) assigned = assigned.where('node_profiles.profile_id', '=', onlyProfile);
  const [rows, peers, certs] = await Promise.all([assigned.execute(), liveCounts(db, 'wg_peers', now, onlyProfile), liveCounts(db, 'certificates', now, onlyProfile)]);
  return { rows, peers, certs };
}
