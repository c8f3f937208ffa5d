import type { WireguardPeerSpec } from '../backends/types.ts';
import { canonicalCidr } from './addresses.ts';
import { isWireguardKey } from './keys.ts';

/**
 * Large enough that 1,000 peers is one call, small enough that argv stays far below the kernel's
 * limits (a peer costs ~6 args and ~110 bytes, so 2,000 peers is ~220 KB, under ARG_MAX of 2 MB).
 */
export const DEFAULT_PEERS_PER_CALL = 2_000;

/**
 * The `wg set` argument lists for one batch: removals first, then upserts, at most `perCall`
 * peers per list. `allowed-ips` on `wg set` replaces the peer's list, so each upsert states the
 * complete set (an empty string clears it). Everything is validated before any list is built, so
 * a bad key fails the batch before a single command has run.
 */
export function wgSetArgs(iface: string, upsert: readonly WireguardPeerSpec[], remove: readonly string[], perCall: number = DEFAULT_PEERS_PER_CALL): string[][] {
  if (!Number.isInteger(perCall) || perCall < 1) throw new Error(`peers per call must be a positive integer, got ${perCall}`);
  const upsertKeys = new Set<string>();
  for (const p of upsert) {
    if (!isWireguardKey(p.publicKey)) throw new Error(`not a WireGuard public key: ${JSON.stringify(p.publicKey)}`);
    for (const ip of p.allowedIps) canonicalCidr(ip);
    upsertKeys.add(p.publicKey);
  }
  for (const k of remove) {
    if (!isWireguardKey(k)) throw new Error(`not a WireGuard public key: ${JSON.stringify(k)}`);
    // Asking to both keep and drop a peer is a bug in the caller's diff, not something to guess about.
    if (upsertKeys.has(k)) throw new Error(`peer ${k} is both upserted and removed in one batch`);
  }

  const items: string[][] = [...remove.map((k) => ['peer', k, 'remove']), ...upsert.map((p) => ['peer', p.publicKey, 'allowed-ips', p.allowedIps.join(',')])];
  const calls: string[][] = [];
  for (let i = 0; i < items.length; i += perCall) {
    calls.push(['wg', 'set', iface, ...items.slice(i, i + perCall).flat()]);
  }
  return calls;
}
