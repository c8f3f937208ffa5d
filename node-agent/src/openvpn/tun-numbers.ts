/**
 * tun device numbers per profile. Names are global on the node and part of each server's config
 * text, so a profile keeps its numbers while other profiles come and go (a changed number would
 * restart its servers and drop their clients). Pure; the agent persists the result.
 */

export interface TunRange {
  first: number;
  count: number;
}

const overlaps = (a: TunRange, b: TunRange) => a.first < b.first + b.count && b.first < a.first + a.count;

/**
 * `wanted`: each OpenVPN profile and its process count. A profile keeps its first number if its
 * processes still fit there; a new profile, or one that grew into a neighbour, takes the lowest
 * free run of numbers. Profiles no longer wanted give theirs back.
 */
export function assignTuns(previous: ReadonlyMap<string, TunRange>, wanted: readonly (readonly [string, number])[]): Map<string, TunRange> {
  const placed = new Map<string, TunRange>();
  const taken: TunRange[] = [];
  const free = (r: TunRange) => !taken.some((t) => overlaps(t, r));
  const keep = (id: string, range: TunRange) => {
    placed.set(id, range);
    taken.push(range);
  };
  // Profiles that still fit where they were go first; a profile that grew keeps its place only if
  // the numbers after it are still free, so it never pushes a neighbour away.
  for (const [id, count] of wanted) {
    const before = previous.get(id);
    if (before && count >= 1 && count <= before.count && free({ first: before.first, count })) keep(id, { first: before.first, count });
  }
  for (const [id, count] of wanted) {
    const before = previous.get(id);
    if (!before || placed.has(id) || count < 1) continue;
    if (free({ first: before.first, count })) keep(id, { first: before.first, count });
  }
  for (const [id, count] of wanted) {
    if (placed.has(id) || count < 1) continue;
    let first = 0;
    for (;;) {
      const clash = taken.find((t) => overlaps(t, { first, count }));
      if (!clash) break;
      first = clash.first + clash.count;
    }
    keep(id, { first, count });
  }
  return placed;
}
