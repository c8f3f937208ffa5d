/** Each node attempt writes through the node door and waits for that node's ack. */
import type { Change } from '@edgeport/schema';
import type { Compilable } from 'kysely';
import { applyNodeChange, mergeChanges } from '../node-door.ts';
import type { Plan, ServingNode } from './types.ts';

/**
 * Commits the new config (with the removals of what it replaces, the first time) and waits for
 * the chosen node's ack: the client never gets a config its node does not know yet.
 */
export async function place(plan: Plan, node: ServingNode, inserts: Compilable[], change: Change): Promise<boolean> {
  const { deps } = plan;
  const changes = mergeChanges(plan.removals, new Map([[node.node_id, [change]]]));
  const acked = await applyNodeChange(deps.db, deps.notifier, [...plan.clearing, ...inserts], changes, { nodeId: node.node_id, waitMs: deps.config.nodes.ackTimeoutMs });
  // Committed and sent: a retry on another node must not delete or announce them again.
  plan.clearing = [];
  plan.removals = new Map();
  return acked;
}

/** Takes back a config its node did not ack in time; nothing waits for this one. */
export async function release(plan: Plan, node: ServingNode, removes: Compilable[], change: Change): Promise<void> {
  await applyNodeChange(plan.deps.db, plan.deps.notifier, removes, new Map([[node.node_id, [change]]]));
}
