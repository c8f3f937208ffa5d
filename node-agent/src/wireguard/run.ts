import { spawn } from 'node:child_process';

/**
 * A tiny execFile: argv arrays only (never a shell string), optional stdin, stdout as the result.
 * Secrets go in by stdin or by file path, so an error message built from argv and the tool's own
 * output never carries key material.
 */
export interface RunOptions {
  /** Written to the command's stdin, then stdin is closed. Never echoed into errors or logs. */
  stdin?: string;
  env?: NodeJS.ProcessEnv;
  /** Start the command in its own session, so a daemon it forks does not share our process group. */
  detached?: boolean;
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
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let failure: string | undefined;
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        failure = 'output too large';
        child.kill('SIGKILL');
        return;
      }
      into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    const timer = setTimeout(() => {
      failure = `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    // A command that exits without reading stdin must not crash us with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');

    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason = e.code === 'ENOENT' ? 'command not found' : e.message;
      reject(new CommandError(argv, null, null, '', reason));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const stdout = Buffer.concat(out).toString('utf8');
      if (code === 0 && !failure) return resolve(stdout);
      const output = [Buffer.concat(err).toString('utf8').trim(), stdout.trim()].filter(Boolean).join('\n');
      reject(new CommandError(argv, code, signal, output, failure));
    });
  });
}
