import type { Compilable, CompiledQuery } from 'kysely';
import type { Change } from '@edgeport/schema';
import type { Db } from '../db/types.ts';

/**
 * Per node, what changed: precise changes, or `resync` when the node should get a fresh
 * snapshot (profile and node edits, which are rare and touch everything on the node).
 */
export type NodeChanges = ReadonlyMap<string, readonly Change[] | 'resync'>;

export interface AwaitNode {
  nodeId: string;
  waitMs: number;
}

export interface NodeHealth {
  connected: boolean;
  /** When the node last said anything (epoch ms), null if never. */
  lastSeenAt: number | null;
}

/** Tells nodes what changed; with `awaitNode`, resolves whether that node acknowledged in time. */
export interface NodeNotifier {
  push(changes: NodeChanges, awaitNode?: AwaitNode): Promise<boolean>;
  health(nodeId: string): Promise<NodeHealth>;
}

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
