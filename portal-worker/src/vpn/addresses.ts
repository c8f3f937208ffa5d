/**
 * WireGuard client addresses of one (profile, node) range pair (docs/eduvpn.md §2.5). Candidate n is
 * network+2+n in the v4 range, paired with network+2+n in the v6 range: the network address,
 * the first host (the node's own interface, also the gateway clients ping) and the v4 broadcast
 * are never handed out. The store allocates (first free, retry on a unique violation), so this
 * module only maps index ↔ address in O(1); it never builds lists.
 */
import { formatIp, parseIPv4, size, type Cidr } from '@edgeport/schema/ip';
import { toCidr } from './prefix.ts';

export type Range = Cidr | string;

export interface AddressPair {
  ipFour: string;
  ipSix: string;
}

function range(r: Range, family: 4 | 6): Cidr {
  const c = typeof r === 'string' ? toCidr(r) : r;
  if (c.family !== family) throw new Error(`expected an IPv${family} range`);
  return c;
}

/** First host of each range: the node's interface address and the `@GW4@`/`@GW6@` DNS substitute. */
export function gatewayAddresses(range4: Range, range6: Range): AddressPair {
  const four = range(range4, 4);
  const six = range(range6, 6);
  return { ipFour: formatIp(4, four.network + 1n), ipSix: formatIp(6, six.network + 1n) };
}

/** How many clients the v4 range holds: 2^(32−prefix) − 3 (network, gateway, broadcast); 0 for /31, /32. */
export function candidateCount(range4: Range): number {
  const n = Number(size(range(range4, 4))) - 3;
  return Math.max(n, 0);
}

/** The `index`-th candidate (0-based). Throws when the index is past either range. */
export function candidateAt(range4: Range, range6: Range, index: number): AddressPair {
  const four = range(range4, 4);
  const six = range(range6, 6);
  if (!Number.isInteger(index) || index < 0 || index >= candidateCount(four)) {
    throw new RangeError(`address index ${index} outside ${formatIp(4, four.network)}/${four.prefix}`);
  }
  const offset = 2n + BigInt(index);
  // The v6 range must hold network+2+index too; profile validation demands it be at least as large.
  if (offset >= size(six)) throw new RangeError(`address index ${index} outside the IPv6 range`);
  return { ipFour: formatIp(4, four.network + offset), ipSix: formatIp(6, six.network + offset) };
}

/** Inverse of candidateAt for the v4 address: its index, or null if it is no candidate of the range. */
export function indexOf(range4: Range, ipFour: string): number | null {
  const four = range(range4, 4);
  const value = parseIPv4(ipFour);
  if (value === null) return null;
  const index = Number(value - four.network - 2n);
  return value >= four.network + 2n && index < candidateCount(four) ? index : null;
}
