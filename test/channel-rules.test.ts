import { PROTOCOL_VERSION } from '@edgeport/schema';
import { describe, expect, it } from 'vitest';
import {
  KEEP_DELTAS,
  KEY_RECHECK_MS,
  STATUS_EVERY_MS,
  acking,
  deltaDropped,
  deltaKey,
  freshMemory,
  helloRefusal,
  keyRecheckDue,
  peaksToWrite,
  peaksWritten,
  seenDue,
  statusWrite,
} from '../portal-worker/src/channel/channel-rules.ts';

/**
 * The NodeChannel object's decisions, without workerd: plain functions of their inputs and the
 * time, like the agent's reconcile. The object itself (socket, storage, database) is exercised
 * by the worker tier's node-channel tests and by every tier that runs a real agent.
 */

const hello = (over: Partial<{ node_id: string; protocol: number }> = {}) => ({
  type: 'hello' as const,
  protocol: PROTOCOL_VERSION,
  node_id: 'ams1',
  agent_version: '0.1.0',
  applied_revision: null,
  wg_public_key: null,
  capabilities: ['wireguard' as const],
  ...over,
});

describe('channel rules', () => {
  it('refuses a hello for another node or protocol, accepts its own', () => {
    expect(helloRefusal(hello(), 'ams1')).toBeNull();
    expect(helloRefusal(hello({ node_id: 'other' }), 'ams1')).toEqual({ type: 'error', code: 'unauthorized', message: 'node_id does not match the credential' });
    expect(helloRefusal(hello({ protocol: PROTOCOL_VERSION + 1 }), 'ams1')).toMatchObject({ type: 'error', code: 'protocol' });
  });

  it('throttles status writes to one per interval, merging what was held back into the next; forced writes go at once', () => {
    const mem = freshMemory();
    const t0 = 1_000_000;
    expect(statusWrite(mem, { connected: 1, agent_version: '1' }, t0, true)).toEqual({ connected: 1, agent_version: '1' });
    expect(statusWrite(mem, { connected: 1, load_json: 'L' }, t0 + 1_000, false)).toBeNull();
    expect(statusWrite(mem, { connected: 1, sessions_json: 'S' }, t0 + 2_000, false)).toBeNull();
    // The next write carries both held-back fields: neither report shadows the other.
    expect(statusWrite(mem, { connected: 1 }, t0 + STATUS_EVERY_MS, false)).toEqual({ connected: 1, load_json: 'L', sessions_json: 'S' });
    expect(mem.pendingStatus).toBeNull();
    expect(statusWrite(mem, { connected: 0 }, t0 + STATUS_EVERY_MS + 1, true)).toEqual({ connected: 0 });
  });

  it("writes a minute's session counts when the minute is new or a count beats its peak so far", () => {
    const mem = freshMemory();
    const at = 60_000 * 500;
    const c = (profile_id: string, count: number) => ({ profile_id, protocol: 'wireguard' as const, count });
    const first = peaksToWrite(mem, at, [c('a', 3), c('b', 0)]);
    expect(first).toEqual([c('a', 3), c('b', 0)]);
    peaksWritten(mem, first);
    expect(peaksToWrite(mem, at + 10_000, [c('a', 2), c('b', 0)])).toEqual([]);
    expect(peaksToWrite(mem, at + 20_000, [c('a', 4), c('b', 0)])).toEqual([c('a', 4)]);
    // Not recorded as written (the write failed): offered again.
    expect(peaksToWrite(mem, at + 30_000, [c('a', 4)])).toEqual([c('a', 4)]);
    // A new minute starts from nothing.
    expect(peaksToWrite(mem, at + 60_000, [c('a', 1)])).toEqual([c('a', 1)]);
  });

  it('re-checks the node key at most once per interval, at once after a reset', () => {
    const mem = freshMemory();
    expect(keyRecheckDue(mem, 10)).toBe(false);
    mem.keyCheckedAt = 5;
    expect(keyRecheckDue(mem, 5 + KEY_RECHECK_MS - 1)).toBe(false);
    expect(keyRecheckDue(mem, 5 + KEY_RECHECK_MS)).toBe(true);
    mem.keyCheckedAt = 0;
    expect(keyRecheckDue(mem, KEY_RECHECK_MS)).toBe(true);
  });

  it('stores lastSeen at most once a second', () => {
    expect(seenDue(1_000, 1_999)).toBe(false);
    expect(seenDue(1_000, 2_000)).toBe(true);
  });

  it('an ack releases every waiter up to its revision', () => {
    const w = [{ revision: 3 }, { revision: 5 }, { revision: 4 }];
    expect(acking(w, 4)).toEqual({ ready: [{ revision: 3 }, { revision: 4 }], waiting: [{ revision: 5 }] });
    expect(acking(w, 2)).toEqual({ ready: [], waiting: w });
  });

  it('keeps the last KEEP_DELTAS deltas under keys that list in revision order', () => {
    expect(deltaKey(7)).toBe('delta:000000000007');
    expect([deltaKey(10), deltaKey(9), deltaKey(100)].sort()).toEqual([deltaKey(9), deltaKey(10), deltaKey(100)]);
    expect(deltaDropped(KEEP_DELTAS)).toBeNull();
    expect(deltaDropped(KEEP_DELTAS + 1)).toBe(deltaKey(1));
  });
});
