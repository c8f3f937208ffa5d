import type { Compilable, CompiledQuery } from 'kysely';
import type { Change } from '@edgeport/schema';
import type { AwaitNode, NodeChanges, NodeNotifier } from '../core/node-door.ts';

export type { AwaitNode, NodeChanges, NodeHealth, NodeNotifier } from '../core/node-door.ts';
import type { Db } from '../core/db.ts';

/**
 * The one door for node-visible changes (docs/conventions.md §7): connect, disconnect, revoke,
 * disable, profile and node edits all write through here, all-or-nothing, and only then tell
 * the nodes (the database stays the truth a reconnecting node is rebuilt from).
 */
export async function applyNodeChange(db: Db, notifier: NodeNotifier, statements: readonly (Compilable | CompiledQuery)[], changes: NodeChanges, awaitNode?: AwaitNode): Promise<boolean> {
  await db.atomic(statements);
  if (!changes.size && !awaitNode) return true;
  return notifier.push(changes, awaitNode);
}

/** Merges per-node changes; a resync wins over precise changes for the same node. */
export function mergeChanges(...parts: NodeChanges[]): Map<string, readonly Change[] | 'resync'> {
  const out = new Map<string, readonly Change[] | 'resync'>();
  for (const part of parts) {
    for (const [node, c] of part) {
      const had = out.get(node);
      out.set(node, had === 'resync' || c === 'resync' ? 'resync' : [...(had ?? []), ...c]);
    }
  }
  return out;
}

export const resyncAll = (nodeIds: readonly string[]): NodeChanges => new Map(nodeIds.map((n) => [n, 'resync' as const]));
