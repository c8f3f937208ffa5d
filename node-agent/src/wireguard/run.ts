import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * A tiny execFile: argv arrays only (never a shell string), optional stdin, stdout as the result.
 * Secrets go in by stdin or by file path, so an error message built from argv and the tool's own
 * output never carries key material.
 */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. Never echoed into errors or logs. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Start the command in its own session, so a daemon it forks does not share our process group.
   * A timeout then kills that whole group.
   */
  detached?: boolean;
  /**
   * After this the command is killed (SIGKILL) and the run rejects with "timed out", at the latest
   * one EXIT_GRACE_MS later whatever still holds its pipes. Default 30 s.
   */
  timeoutMs?: number;
}

export type Runner = (argv: readonly string[], options?: RunOptions) => Promise<string>;

export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly argv: readonly string[],
    readonly exitCode: number | null,
    readonly signal: string | null,
    /** The tool's stderr then stdout, trimmed (wireguard-go logs its errors to stdout). */
    readonly output: string,
    reason?: string,
  ) {
    const how = reason ?? (signal ? `killed by ${signal}` : `exit ${exitCode}`);
    super(`${argv.join(' ')} failed (${how})${output ? `: ${output}` : ''}`);
  }
}

const DEFAULT_TIMEOUT_MS = 30_000;
// A dump of 100k peers is ~15 MB; the cap only guards against a runaway tool.
const MAX_OUTPUT_BYTES = 256 * 1024 * 1024;
/**
 * How long to keep reading once the command has exited (or been killed) without its pipes
 * closing. A process it left behind (a daemon that kept its inherited stdout, `tool &` in a
 * script, a grandchild the kill did not reach) can hold them open forever, and 'close' would
 * never fire; whatever the command itself wrote is already in the pipe when it exits.
 */
export const EXIT_GRACE_MS = 1_000;

export function createRunner(opts: { netns?: string } = {}): Runner {
  const prefix = opts.netns ? ['ip', 'netns', 'exec', opts.netns] : [];
  return (argv, options = {}) => runArgv([...prefix, ...argv], options);
}

function runArgv(argv: readonly string[], options: RunOptions): Promise<string> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new Error('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      detached: options.detached ?? false,
    });
    watch(argv, child, options, (error, stdout) => (error ? reject(error) : resolve(stdout)));
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

type Done = (error: CommandError | null, stdout: string) => void;

/**
 * Settles exactly once: on 'close' (exit and every pipe closed), or one grace period after the
 * exit when something else still holds the pipes, or one grace period after the timeout's kill
 * even if no exit was seen. A settled run never waits on anyone else's file descriptors.
 */
function watch(argv: readonly string[], child: ChildProcessWithoutNullStreams, options: RunOptions, done: Done): void {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let failure: string | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let grace: NodeJS.Timeout | undefined;
  let settled = false;

  const settle = (error: CommandError | null) => {
    if (settled) return;
    settled = true;
    clearTimeout(deadline);
    clearTimeout(grace);
    // Our ends only: a process left behind then gets EPIPE instead of keeping us waiting.
    for (const s of [child.stdin, child.stdout, child.stderr]) s.destroy();
    done(error, output.stdout());
  };
  const finish = () => {
    if (exit?.code === 0 && !failure) return settle(null);
    settle(new CommandError(argv, exit?.code ?? null, exit?.signal ?? null, output.combined(), failure));
  };
  // Also restarted by every chunk that still arrives after the exit, so a slow reader is not cut
  // off mid-output; never past the deadline, so a chatty process left behind cannot hold us.
  const finishSoon = () => {
    clearTimeout(grace);
    grace = setTimeout(finish, EXIT_GRACE_MS);
  };
  const stop = (reason: string) => {
    if (failure !== undefined) return;
    failure = reason;
    killCommand(child, options.detached ?? false);
    finishSoon();
  };
  const deadline = setTimeout(() => stop(`timed out after ${timeoutMs} ms`), timeoutMs);
  const output = collectOutput(
    child,
    () => stop('output too large'),
    () => {
      if (exit && failure === undefined) finishSoon();
    },
  );

  child.on('error', (e: NodeJS.ErrnoException) => {
    // Also emitted when a kill fails; only a failed spawn (no pid) ends the run here.
    if (child.pid !== undefined) return;
    settle(new CommandError(argv, null, null, '', e.code === 'ENOENT' ? 'command not found' : e.message));
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    finishSoon();
  });
  child.on('close', finish);
}

/**
 * SIGKILL for the command; when it runs in its own process group (`detached`), for the whole
 * group, so a daemon or helper it forked goes too instead of holding our pipes.
 */
function killCommand(child: ChildProcessWithoutNullStreams, detached: boolean): void {
  if (detached && child.pid !== undefined) {
    try {
      process.kill(-child.pid, 'SIGKILL');
      return;
    } catch {
      // The group is gone already; fall back to the child itself.
    }
  }
  child.kill('SIGKILL');
}

interface Output {
  stdout(): string;
  /** The tool's stderr then stdout, trimmed (wireguard-go logs its errors to stdout). */
  combined(): string;
}

function collectOutput(child: ChildProcessWithoutNullStreams, onOverflow: () => void, onData: () => void): Output {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let size = 0;
  const collect = (into: Buffer[]) => (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_OUTPUT_BYTES) return onOverflow();
    into.push(chunk);
    onData();
  };
  child.stdout.on('data', collect(out));
  child.stderr.on('data', collect(err));
  const text = (chunks: Buffer[]) => Buffer.concat(chunks).toString('utf8');
  return {
    stdout: () => text(out),
    combined: () => [text(err).trim(), text(out).trim()].filter(Boolean).join('\n'),
  };
}
