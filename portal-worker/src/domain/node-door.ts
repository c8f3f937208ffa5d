import type { Compilable, CompiledQuery } from 'kysely';
import type { Db } from '../db/types.ts';

/**
 * Tells nodes that what they must run has changed. The node channel (WebSocket per node, next
 * issue) implements it and makes `changed` resolve when the node acknowledged; until a node
 * channel exists nodes read their configuration from the database, so there is nobody to tell.
 */
export interface NodeNotifier {
  changed(nodeIds: readonly string[], reason: string): Promise<void>;
}

export const noNodeChannel: NodeNotifier = {
  async changed() {},
};

/**
 * The one door for node-visible changes (CONVENTIONS habit 7): connect, disconnect, revoke,
 * disable, profile and node edits all write through here, all-or-nothing, then notify.
 */
export async function applyNodeChange(
  db: Db,
  notifier: NodeNotifier,
  statements: readonly (Compilable | CompiledQuery)[],
  nodeIds: readonly string[],
  reason: string,
): Promise<void> {
  await db.atomic(statements);
  if (nodeIds.length) await notifier.changed([...new Set(nodeIds)], reason);
}
