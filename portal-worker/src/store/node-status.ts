import type { Db } from '../core/db.ts';

export interface NodeStatusRow {
  connected: 0 | 1;
  agent_version?: string;
  applied_revision?: number | null;
  load_json?: string;
  sessions_json?: string;
  wanted_revision: number;
  last_seen_at: number;
  updated_at: number;
}

/**
 * Writes a node's status row (the admin view reads it). A socket closing after its node was
 * deleted must not leave a status row behind it, so a missing node writes nothing.
 */
export async function writeNodeStatus(db: Db, nodeId: string, row: NodeStatusRow): Promise<void> {
  const existing = await db.kysely.selectFrom('node_status').select('node_id').where('node_id', '=', nodeId).executeTakeFirst();
  if (existing) {
    await db.kysely.updateTable('node_status').set(row).where('node_id', '=', nodeId).execute();
    return;
  }
  if (!(await db.kysely.selectFrom('nodes').select('id').where('id', '=', nodeId).executeTakeFirst())) return;
  await db.kysely
    .insertInto('node_status')
    .values({ node_id: nodeId, agent_version: null, applied_revision: null, load_json: null, sessions_json: null, ...row })
    .execute();
}
