/**
 * Prefix arithmetic for WireGuard `AllowedIPs`: union of the include list minus the exclude list,
 * written back as the fewest CIDR prefixes. Upstream eduVPN does real subtraction too (docs/eduvpn.md
 * §2.1); WireGuard has no "except" syntax, so `0.0.0.0/0` minus a LAN must become covering prefixes.
 */
import { parseCidr, size, type Cidr, type Family } from '@edgeport/schema/ip';

/** Half-open address interval [start, end). Intervals are easier to merge and cut than prefixes. */
interface Span {
  start: bigint;
  end: bigint;
}

const BITS: Record<Family, number> = { 4: 32, 6: 128 };

/** Parses a CIDR that was validated when it was stored; a failure here is a bug, not user input. */
export function toCidr(text: string): Cidr {
  const r = parseCidr(text);
  if (!r.ok) throw new Error(`invalid stored prefix: ${r.message}`);
  return r.cidr;
}

/** Sorted, disjoint, non-adjacent spans of one family: overlapping or touching prefixes fuse. */
function spans(list: readonly Cidr[], family: Family): Span[] {
  const sorted = list
    .filter((c) => c.family === family)
    .map((c) => ({ start: c.network, end: c.network + size(c) }))
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Span[] = [];
  for (const s of sorted) {
    const last = out[out.length - 1];
    if (last && s.start <= last.end) {
      if (s.end > last.end) last.end = s.end;
    } else {
      out.push({ ...s });
    }
  }
  return out;
}

/** Cuts every exclude span out of the include spans (both sorted and disjoint). */
function cut(include: Span[], exclude: Span[]): Span[] {
  const out: Span[] = [];
  for (const inc of include) {
    let start = inc.start;
    for (const ex of exclude) {
      if (ex.end <= start) continue;
      if (ex.start >= inc.end) break;
      if (ex.start > start) out.push({ start, end: ex.start });
      start = ex.end;
      if (start >= inc.end) break;
    }
    if (start < inc.end) out.push({ start, end: inc.end });
  }
  return out;
}

/**
 * The greedy split of one interval into aligned blocks: at each step take the largest block that
 * starts at `start` (limited by its alignment) and still fits. Because the spans are maximal (merged
 * and non-adjacent), no prefix could cover two of them, so the result is minimal overall.
 */
function toPrefixes(span: Span, family: Family): Cidr[] {
  const bits = BITS[family];
  const out: Cidr[] = [];
  let start = span.start;
  while (start < span.end) {
    let hostBits = 0;
    while (hostBits < bits && (start & ((1n << BigInt(hostBits + 1)) - 1n)) === 0n && start + (1n << BigInt(hostBits + 1)) <= span.end) {
      hostBits++;
    }
    out.push({ family, network: start, prefix: bits - hostBits });
    start += 1n << BigInt(hostBits);
  }
  return out;
}

/**
 * Union of `include` minus union of `exclude`, per family, as the minimal prefix list: IPv4 first,
 * then IPv6, each in address order. With an empty `exclude` this is merge/deduplicate.
 */
export function subtractPrefixes(include: readonly Cidr[], exclude: readonly Cidr[] = []): Cidr[] {
  return ([4, 6] as const).flatMap((family) => cut(spans(include, family), spans(exclude, family)).flatMap((s) => toPrefixes(s, family)));
}

/** Merges overlapping, nested, duplicate and adjacent prefixes into the fewest equivalent ones. */
export function mergePrefixes(list: readonly Cidr[]): Cidr[] {
  return subtractPrefixes(list, []);
}
