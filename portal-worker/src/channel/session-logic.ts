import type { Change, HubMessage } from '@edgeport/schema';

/** A delta as the object keeps it: the changes that lead from `base` to `revision`. */
export interface StoredDelta {
  base: number;
  revision: number;
  changes: Change[];
}

/**
 * What to send a node that says it has applied `applied`: nothing if it is current, the missing
 * deltas if every one of them is still kept, else a snapshot. Pure, so the rule is table-tested.
 */
export function catchUp(applied: number | null, current: number, deltas: readonly StoredDelta[]): { kind: 'none' } | { kind: 'deltas'; deltas: StoredDelta[] } | { kind: 'snapshot' } {
  if (applied === current) return { kind: 'none' };
  // Unknown, or ahead of us (the object lost its storage): only a snapshot is safe.
  if (applied === null || applied > current) return { kind: 'snapshot' };
  const needed = deltas.filter((d) => d.revision > applied).sort((a, b) => a.revision - b.revision);
  let at = applied;
  for (const d of needed) {
    if (d.base !== at) return { kind: 'snapshot' };
    at = d.revision;
  }
  return at === current ? { kind: 'deltas', deltas: needed } : { kind: 'snapshot' };
}

export function deltaMessage(d: StoredDelta): HubMessage {
  return { type: 'delta', base: d.base, revision: d.revision, changes: d.changes };
}
