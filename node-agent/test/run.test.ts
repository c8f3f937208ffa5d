/**
 * The command runner's bounds. A process the command leaves behind can hold its stdout and
 * stderr open for as long as it lives (a daemon that kept its inherited stdio, `tool &` in a
 * script); 'close' then never comes, and a runner waiting for it hangs however short its timeout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CommandError, createRunner, EXIT_GRACE_MS } from '../src/wireguard/run.ts';
import { isAlive } from './support/process.ts';

const run = createRunner();
// Generous for a loaded CI machine; far below the 30 s the left-behind `sleep`s live.
const SLACK_MS = 3_000;
const LEFT_BEHIND_S = 30;

const leftBehind: number[] = [];
afterEach(() => {
  for (const pid of leftBehind.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** The pids a script printed (one `echo $!` per background job), remembered for afterEach. */
function pidsIn(text: string): number[] {
  const pids = [...text.matchAll(/^pid=(\d+)$/gm)].map((m) => Number(m[1]));
  leftBehind.push(...pids);
  return pids;
}

/** How long `work` took, and what it resolved or rejected with. */
async function timed(work: () => Promise<unknown>): Promise<{ ms: number; result: unknown }> {
  const t0 = Date.now();
  const result = await work().catch((e: unknown) => e);
  return { ms: Date.now() - t0, result };
}

describe('createRunner bounds', () => {
  it('resolves once the command exits, although a process it left behind keeps stdout open', async () => {
    const { ms, result } = await timed(() => run(['sh', '-c', `sleep ${LEFT_BEHIND_S} & echo pid=$!; echo done`], { timeoutMs: 20_000 }));
    expect(typeof result).toBe('string');
    const [pid] = pidsIn(result as string);
    expect(result).toMatch(/^done$/m);
    // Before the runner settled on exit + grace, this waited the full 30 s for the `sleep`.
    expect(ms).toBeLessThan(EXIT_GRACE_MS + SLACK_MS);
    expect(await isAlive(pid as number)).toBe(true);
  }, 15_000);

  it('rejects at its timeout, naming the command, when the command and a process it started both hang', async () => {
    const argv = ['sh', '-c', `sleep ${LEFT_BEHIND_S} & echo pid=$!; sleep ${LEFT_BEHIND_S}`];
    const { ms, result } = await timed(() => run(argv, { timeoutMs: 500 }));
    expect(result).toBeInstanceOf(CommandError);
    const err = result as CommandError;
    pidsIn(err.output);
    expect(err.message).toMatch(/^sh -c sleep 30 & echo pid=\$!; sleep 30 failed \(timed out after 500 ms\)/);
    // The kill reached sh only; its background `sleep` still held the pipes, and 'close' never came.
    expect(ms).toBeLessThan(500 + EXIT_GRACE_MS + SLACK_MS);
  }, 15_000);

  it('with detached, a timeout kills the whole process group, not only the command', async () => {
    const argv = ['sh', '-c', `sleep ${LEFT_BEHIND_S} & echo pid=$!; wait`];
    const { ms, result } = await timed(() => run(argv, { timeoutMs: 500, detached: true }));
    expect(result).toBeInstanceOf(CommandError);
    const [pid] = pidsIn((result as CommandError).output);
    expect((result as CommandError).message).toMatch(/failed \(timed out after 500 ms\)/);
    expect(ms).toBeLessThan(500 + EXIT_GRACE_MS + SLACK_MS);
    expect(await isAlive(pid as number)).toBe(false);
  }, 15_000);

  it('still reports the exit code and output of a failing command whose helper lingers', async () => {
    const { ms, result } = await timed(() => run(['sh', '-c', `sleep ${LEFT_BEHIND_S} & echo pid=$!; echo oops >&2; exit 4`]));
    expect(result).toBeInstanceOf(CommandError);
    const err = result as CommandError;
    pidsIn(err.output);
    expect(err.exitCode).toBe(4);
    expect(err.message).toMatch(/failed \(exit 4\): oops/);
    expect(ms).toBeLessThan(EXIT_GRACE_MS + SLACK_MS);
  }, 15_000);

  it('rejects at its timeout when a process left behind keeps writing after the command exited', async () => {
    // Every tick restarts the exit grace, but not past the deadline.
    const argv = ['sh', '-c', '(while :; do echo tick; sleep 0.05; done) & echo pid=$!'];
    const { ms, result } = await timed(() => run(argv, { timeoutMs: 1_500 }));
    expect(result).toBeInstanceOf(CommandError);
    pidsIn((result as CommandError).output);
    expect((result as CommandError).message).toMatch(/failed \(timed out after 1500 ms\)/);
    expect(ms).toBeLessThan(1_500 + EXIT_GRACE_MS + SLACK_MS);
  }, 15_000);

  it('still reads all of a large output', async () => {
    // The writer blocks until we read, so it exits with at most a pipe's worth unread; the grace
    // after the exit must not cut that off.
    const out = await run(['sh', '-c', 'head -c 2000000 /dev/zero | tr "\\0" x'], { timeoutMs: 20_000 });
    expect(out.length).toBe(2_000_000);
  }, 15_000);
});
