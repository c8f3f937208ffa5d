// The watchdog of one vitest worker process (started by watchdog.ts, which documents why). Plain
// JavaScript because a worker thread is not run through vitest's TypeScript transform.
//
// workerData: { beat: SharedArrayBuffer (one BigInt64: Date.now() of the main thread's last
// heartbeat), limitMs, file }. Messages: { file } (a new test file starts in this process: its
// name, and a fresh cleanup list), { where } (what the main thread is doing),
// { cleanup: { pid } | { argv } | { path } } (undone on a hang, newest first), { forget: pid }.
import { spawnSync } from 'node:child_process';
import { rmSync, writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

const { beat, limitMs } = workerData;
let { file } = workerData;
const lastBeat = new BigInt64Array(beat);
// A hang is reported, cleaned up and killed well within CI limits even if cleanup steps hang too.
const STEP_TIMEOUT_MS = 5_000;

let where = 'before its first test';
const cleanups = [];

parentPort.on('message', (m) => {
  if (typeof m.file === 'string') {
    file = m.file;
    cleanups.length = 0;
  }
  if (typeof m.where === 'string') where = m.where;
  if (m.cleanup) cleanups.push(m.cleanup);
  if (typeof m.forget === 'number') {
    const i = cleanups.findIndex((c) => c.pid === m.forget);
    if (i >= 0) cleanups.splice(i, 1);
  }
});

const timer = setInterval(check, Math.max(50, Math.min(1_000, limitMs / 4)));

function check() {
  const silentMs = Date.now() - Number(Atomics.load(lastBeat, 0));
  if (silentMs < limitMs) return;
  clearInterval(timer);
  say(
    `[watchdog] ${file}: the worker's main thread has not run for ${Math.round(silentMs / 1000)} s (${where}). ` +
      'It is blocked where no vitest timeout can fire (native code or a synchronous call); ' +
      'cleaning up what the tests registered and killing this worker so the run fails instead of hanging.',
  );
  for (const c of cleanups.reverse()) undo(c);
  process.kill(process.pid, 'SIGKILL');
}

function undo(c) {
  try {
    if (c.pid) process.kill(c.pid, 'SIGKILL');
    if (c.argv) spawnSync(c.argv[0], c.argv.slice(1), { stdio: 'ignore', timeout: STEP_TIMEOUT_MS, killSignal: 'SIGKILL' });
    if (c.path) rmSync(c.path, { recursive: true, force: true });
  } catch (e) {
    say(`[watchdog] cleanup ${JSON.stringify(c)} failed: ${e}`);
  }
}

// Synchronous, straight to the worker's stderr (which vitest relays): nothing may be left queued
// when the process is killed a moment later.
function say(line) {
  try {
    writeSync(2, `\n${line}\n`);
  } catch {
    // stderr is gone; the exit status still tells.
  }
}
