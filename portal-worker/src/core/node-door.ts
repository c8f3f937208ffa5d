import type { Change } from '@edgeport/schema';

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
