import { PROTOCOL_VERSION, type HubMessage, type NodeMessage } from '@edgeport/schema';

/**
 * What the NodeChannel object decides, as pure functions with time passed in (as the agent's
 * `reconcile` is): the class around them only moves bytes between the socket, its storage and
 * the database. Tested without workerd (test/channel-rules.test.ts).
 */

/** Status rows in the database are refreshed at most this often per node. */
export const STATUS_EVERY_MS = 5_000;
/** Heartbeats re-check the node's pinned key this often. */
export const KEY_RECHECK_MS = 60_000;
/** Health for node choice is stored at most this often (any frame counts; heartbeats come every ~10 s). */
export const SEEN_EVERY_MS = 1_000;

export type StatusFields = { connected: 0 | 1; agent_version?: string; applied_revision?: number | null; load_json?: string; sessions_json?: string };

/** The object's memory between frames (lost on eviction: each field is a rate limit, so losing it is harmless). */
export interface ChannelMemory {
  lastStatusWrite: number;
  /** A throttled status write, merged into the next one. */
  pendingStatus: Partial<StatusFields> | null;
  statsMinute: number;
  /** The highest count written so far this minute, per profile and protocol. */
  statsWritten: Map<string, number>;
  keyCheckedAt: number;
}

export const freshMemory = (): ChannelMemory => ({ lastStatusWrite: 0, pendingStatus: null, statsMinute: -1, statsWritten: new Map(), keyCheckedAt: 0 });

/** A hello this node may not send: the refusal to answer with, else null. */
export function helloRefusal(m: Extract<NodeMessage, { type: 'hello' }>, nodeId: string): HubMessage | null {
  if (m.node_id !== nodeId) return { type: 'error', code: 'unauthorized', message: 'node_id does not match the credential' };
  if (m.protocol !== PROTOCOL_VERSION) return { type: 'error', code: 'protocol', message: `portal speaks protocol ${PROTOCOL_VERSION}` };
  return null;
}

/**
 * The status write to make now, or null when it is throttled. A throttled write is kept and goes
 * out merged into the next one: heartbeats and session reports arriving close together must not
 * shadow each other's fields for good. `force`: an event the admin view must show at once.
 */
export function statusWrite(mem: ChannelMemory, fields: StatusFields, now: number, force: boolean): StatusFields | null {
  const merged = { ...mem.pendingStatus, ...fields };
  if (!force && now - mem.lastStatusWrite < STATUS_EVERY_MS) {
    mem.pendingStatus = merged;
    return null;
  }
  mem.pendingStatus = null;
  mem.lastStatusWrite = now;
  return merged;
}

type Count = { profile_id: string; protocol: string; count: number };

/**
 * The counts of a sessions report worth writing: the statistics keep each minute's peak, so a
 * count is written when its minute is new or it beats what this minute has so far (reports come
 * every ~10 s, peaks are rarer). Call `peaksWritten` once they are stored.
 */
export function peaksToWrite<C extends Count>(mem: ChannelMemory, at: number, counts: readonly C[]): C[] {
  const minute = Math.floor(at / 60_000);
  if (minute !== mem.statsMinute) {
    mem.statsMinute = minute;
    mem.statsWritten.clear();
  }
  return counts.filter((c) => c.count > (mem.statsWritten.get(`${c.profile_id}/${c.protocol}`) ?? -1));
}

export function peaksWritten(mem: ChannelMemory, written: readonly Count[]): void {
  for (const c of written) mem.statsWritten.set(`${c.profile_id}/${c.protocol}`, c.count);
}

/** Whether a heartbeat's key is checked against the pinned one now (a hello always is). */
export function keyRecheckDue(mem: ChannelMemory, now: number): boolean {
  return now - mem.keyCheckedAt >= KEY_RECHECK_MS;
}

/** Whether `lastSeen` in storage is worth rewriting at `now`. */
export const seenDue = (lastSeen: number, now: number): boolean => now - lastSeen >= SEEN_EVERY_MS;

/** The waiters an ack of `revision` releases, and those still waiting. */
export function acking<W extends { revision: number }>(waiters: readonly W[], revision: number): { ready: W[]; waiting: W[] } {
  return { ready: waiters.filter((w) => w.revision <= revision), waiting: waiters.filter((w) => w.revision > revision) };
}

/** How many deltas the object keeps for nodes that come back after a short absence. */
export const KEEP_DELTAS = 1000;

/** Storage key of a kept delta: zero-padded, so a prefix listing comes in revision order. */
export const deltaKey = (revision: number): string => `delta:${String(revision).padStart(12, '0')}`;

/** The kept delta that recording `revision` pushes out, if any. */
export const deltaDropped = (revision: number): string | null => (revision > KEEP_DELTAS ? deltaKey(revision - KEEP_DELTAS) : null);

/** The load a heartbeat reports, as the status row keeps it. */
export function loadJson(m: Extract<NodeMessage, { type: 'heartbeat' }>): string {
  return JSON.stringify({ load_average: m.load_average, cpu_count: m.cpu_count, uptime_s: m.uptime_s });
}

/** A sessions report's summary for the status row (the full report stays in the object's storage). */
export function sessionsJson(m: Extract<NodeMessage, { type: 'sessions' }>): string {
  return JSON.stringify({ at: m.at, counts: m.counts, peers: m.peers.length, clients: m.clients.length });
}
