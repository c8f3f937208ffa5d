/**
 * Long-running helper processes for the namespace tests (echo servers, OpenVPN clients), with a
 * bound on every wait: a helper that never gets ready, never exits or ignores SIGTERM ends in an
 * error naming it and carrying its output, not in a test that waits forever.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { forgetPid, onHardHang } from './watchdog.ts';

// Enough of a helper's output to explain a failure; older output is dropped.
const OUTPUT_TAIL_CHARS = 64 * 1024;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Helper {
  readonly what: string;
  readonly child: ChildProcess;
  /** stdout and stderr as they arrived (the last 64 KiB). */
  output(): string;
  /** Settles when the process has exited; never rejects. */
  readonly exited: Promise<Exit>;
  /** The exit, once it happened. */
  exit(): Exit | null;
}

/**
 * Starts `argv` with its output piped to us, never inherited: a helper that outlives this worker
 * must not hold vitest's own stdout or stderr open. It is registered with the watchdog so a hung
 * worker still kills it.
 */
export function spawnHelper(what: string, argv: readonly string[]): Helper {
  const [file, ...args] = argv;
  if (!file) throw new Error(`${what}: empty argv`);
  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const append = (d: Buffer) => {
    text = (text + d.toString()).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  let exit: Exit | null = null;
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve((exit = { code, signal })));
    child.once('error', (e) => {
      append(Buffer.from(`spawn failed: ${e.message}\n`));
      resolve((exit = { code: null, signal: null }));
    });
  });
  if (child.pid !== undefined) {
    const pid = child.pid;
    onHardHang({ pid });
    void exited.then(() => forgetPid(pid));
  }
  return { what, child, output: () => text, exited, exit: () => exit };
}

const describeExit = (e: Exit) => (e.signal ? `killed by ${e.signal}` : `exited with code ${e.code}`);

/** Rejects with `message` after `ms`; the timer never outlives the race. */
export async function within<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Waits until the helper's output matches `ready`. A helper that exits first, or is not ready
 * within `ms`, is killed and the wait rejects with its name and output.
 */
export async function waitForOutput(h: Helper, ready: RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (ready.test(h.output())) return;
    const e = h.exit();
    if (e) throw new Error(`${h.what} ${describeExit(e)} before it was ready; output:\n${h.output()}`);
    if (Date.now() > deadline) {
      await stopHelper(h, 2_000).catch(() => {});
      throw new Error(`${h.what} not ready after ${ms} ms (waited for ${ready}); output:\n${h.output()}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The helper's exit, which must come by itself within `ms`; otherwise it is killed and this rejects. */
export async function exitWithin(h: Helper, ms: number): Promise<Exit> {
  try {
    return await within(h.exited, ms, () => `${h.what} did not exit within ${ms} ms; output:\n${h.output()}`);
  } catch (e) {
    await stopHelper(h, 2_000).catch(() => {});
    throw e;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; rejects if even SIGKILL leaves it running for `graceMs`. */
export async function stopHelper(h: Helper, graceMs = 5_000): Promise<Exit> {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    const done = h.exit();
    if (done) return done;
    h.child.kill(signal);
    const e = await within(h.exited, graceMs, () => '').catch(() => null);
    if (e) return e;
  }
  throw new Error(`${h.what} (pid ${h.child.pid}) survived SIGKILL for ${graceMs} ms`);
}

/** Whether `pid` is a live process (a zombie, which nobody may reap here, is not). */
export async function isAlive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // The state letter follows the parenthesised command name, which may itself hold spaces.
  return stat !== null && !/^\S+ \(.*\) [ZX]/s.test(stat);
}

/** Live processes whose argv is exactly `argv` (e.g. a wireguard-go left behind for an interface). */
export async function processesWithArgv(argv: readonly string[]): Promise<number[]> {
  const want = argv.join('\0');
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.replace(/\0$/, '') === want && (await isAlive(Number(entry)))) pids.push(Number(entry));
  }
  return pids;
}
