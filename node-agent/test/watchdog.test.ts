/**
 * The watchdog thread (support/watchdog-thread.mjs) on a process whose main thread blocks for
 * good, the way a vitest worker did when it deadlocked inside Node's crypto: no timer fires
 * there, so only another thread can end it.
 */
import { describe, expect, it } from 'vitest';
import { CommandError, createRunner } from '../src/wireguard/run.ts';
import { isAlive } from './support/process.ts';

const run = createRunner();
const LIMIT_MS = 1_000;

// Starts the thread as watchdog.ts does, registers a helper process, then blocks on Atomics.wait.
const stuckWorker = (thread: string) => `
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
const beat = new BigInt64Array(new SharedArrayBuffer(8));
setInterval(() => Atomics.store(beat, 0, BigInt(Date.now())), 100);
Atomics.store(beat, 0, BigInt(Date.now()));
const w = new Worker(new URL(${JSON.stringify(thread)}), { execArgv: [], workerData: { beat: beat.buffer, limitMs: ${LIMIT_MS}, file: 'demo.test.ts' } });
const helper = spawn('sleep', ['30'], { stdio: 'ignore' });
console.log('helper=' + helper.pid);
w.postMessage({ where: 'in test "blocks forever"' });
w.postMessage({ cleanup: { pid: helper.pid } });
setTimeout(() => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0), 300);
`;

describe('watchdog', () => {
  it('kills a process whose main thread is stuck, saying where it was, after undoing what was registered', async () => {
    const thread = new URL('./support/watchdog-thread.mjs', import.meta.url).href;
    const t0 = Date.now();
    const err = await run([process.execPath, '--input-type=module', '-e', stuckWorker(thread)], { timeoutMs: 30_000 }).catch((e: unknown) => e);
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(CommandError);
    const { signal, output } = err as CommandError;
    expect(signal).toBe('SIGKILL');
    expect(output).toMatch(/\[watchdog\] demo\.test\.ts: the worker's main thread has not run for \d+ s \(in test "blocks forever"\)/);
    // The limit, the thread's check interval, start-up: far below the runner's 30 s.
    expect(ms).toBeLessThan(LIMIT_MS + 5_000);
    const helper = Number(/^helper=(\d+)$/m.exec(output)?.[1]);
    expect(helper).toBeGreaterThan(0);
    expect(await isAlive(helper)).toBe(false);
  }, 40_000);
});
