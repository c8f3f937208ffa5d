/**
 * A watchdog thread per vitest worker process (started by watchdog-setup.ts, the tier's setup file).
 *
 * vitest's test and hook timeouts are timers on the worker's main thread. When that thread is
 * stuck outside the event loop (it once deadlocked inside Node's crypto during a garbage
 * collection), no timeout fires and the run hangs until CI kills it. The watchdog has its own
 * thread and event loop: when the main thread's heartbeat stops for longer than any test may
 * take, it prints where the worker was, undoes what the tests registered (helper processes,
 * interfaces, namespaces) and kills the worker, which vitest then reports as a failure.
 */
import { Worker } from 'node:worker_threads';

/**
 * Longer than testTimeout and hookTimeout, so an ordinary hang still gets vitest's own message.
 * EDGEPORT_TEST_WATCHDOG_MS overrides it (to see the watchdog act without waiting 90 s).
 */
export const WATCHDOG_LIMIT_MS = Number(process.env.EDGEPORT_TEST_WATCHDOG_MS) || 90_000;
const BEAT_MS = 1_000;

export type HangCleanup = { pid: number } | { argv: string[] } | { path: string };

interface Watchdog {
  worker: Worker;
}

// One per worker process; the setup file and the test files that import this module share it.
const KEY = Symbol.for('edgeport.node-agent.watchdog');
type WithWatchdog = typeof globalThis & { [KEY]?: Watchdog };

/** Starts the watchdog thread for this process (once) with the given limit. */
export function startWatchdog(file: string, limitMs = WATCHDOG_LIMIT_MS): Watchdog {
  const g = globalThis as WithWatchdog;
  if (g[KEY]) return g[KEY];
  const beat = new BigInt64Array(new SharedArrayBuffer(8));
  Atomics.store(beat, 0, BigInt(Date.now()));
  // No execArgv: the thread needs none of the worker's loader flags, and some refuse a file entry.
  const worker = new Worker(new URL('./watchdog-thread.mjs', import.meta.url), { execArgv: [], workerData: { beat: beat.buffer, limitMs, file } });
  // Neither the thread nor the heartbeat may keep a finished worker process alive.
  worker.unref();
  setInterval(() => Atomics.store(beat, 0, BigInt(Date.now())), BEAT_MS).unref();
  g[KEY] = { worker };
  return g[KEY];
}

/** For the setup file: a test file starts (its name, and a fresh list of cleanups). */
export function watchdogFile(file: string): void {
  post({ file });
}

function post(message: object): void {
  (globalThis as WithWatchdog)[KEY]?.worker.postMessage(message);
}

/** What the worker is doing, for the watchdog's message. */
export function watchdogWhere(where: string): void {
  post({ where });
}

/**
 * Registers something to undo if the worker hangs for good (its afterAll would never run):
 * SIGKILL a pid, run a cleanup command (5 s bound), or remove a path. Undone newest first.
 */
export function onHardHang(cleanup: HangCleanup): void {
  post({ cleanup });
}

/** A registered pid has exited: never kill it later (the number may be reused). */
export function forgetPid(pid: number): void {
  post({ forget: pid });
}
