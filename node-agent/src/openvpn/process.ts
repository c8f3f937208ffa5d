/**
 * One supervised `openvpn --config <runDir>/<name>.conf` server and its management connection.
 *
 * The server must outlive the agent (a restarted or upgraded agent must not drop tunnels), so it is
 * spawned detached with its output in a file rather than a pipe, and its pid goes to
 * `<runDir>/<name>.pid`. A later agent adopts a running server whose config file still has the
 * wanted text instead of starting a second one (which could not bind the port anyway).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Logger, OpenvpnProcessSpec } from '../backends/types.ts';
import { connectManagement, type ManagementClient } from './management.ts';
import type { ManagementMessage } from './management-protocol.ts';

export interface ProcessContext {
  runDir: string;
  /** Where each server's output goes (`<name>.log`, truncated at every start). */
  logDir: string;
  logger: Logger;
  openvpnPath: string;
  netns?: string;
  /** A management connection is up (after a start, an adoption or a reconnect). */
  onConnected(p: ServerProcess, client: ManagementClient): void;
  onMessage(p: ServerProcess, m: ManagementMessage, client: ManagementClient): void;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 60_000;
// A server that ran this long before dying gets a fresh, short backoff.
const STABLE_MS = 60_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** temp + rename: a reader (or a crash) never sees half a file; 0600 because configs hold certificates. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o600, flag: 'wx' });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export const pathsOf = (runDir: string, name: string) => ({
  config: join(runDir, `${name}.conf`),
  socket: join(runDir, `${name}.sock`),
  pid: join(runDir, `${name}.pid`),
});

/** Whether `pid` is alive and is the OpenVPN started with `configPath` (pids get reused). */
export async function isOurServer(pid: number, configPath: string): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const argv = await readFile(`/proc/${pid}/cmdline`, 'utf8').then(
    (t) => t.split('\0'),
    (): string[] => [],
  );
  const i = argv.indexOf('--config');
  return i >= 0 && argv[i + 1] === configPath;
}

async function gone(pid: number, configPath: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (await isOurServer(pid, configPath)) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

/** SIGTERM, then SIGKILL after the grace period, for a server that is not our child. */
export async function killServer(pid: number, configPath: string): Promise<void> {
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    try {
      process.kill(pid, sig);
    } catch {
      return; // already gone
    }
    if (await gone(pid, configPath, STOP_GRACE_MS)) return;
  }
  throw new Error(`openvpn pid ${pid} (${configPath}) survived SIGKILL`);
}

export class ServerProcess {
  readonly paths: ReturnType<typeof pathsOf>;
  private child: ChildProcess | null = null;
  private pid: number | null = null;
  private startedAt = 0;
  private backoffMs = BACKOFF_MIN_MS;
  private timer: NodeJS.Timeout | null = null;
  private supervised = true;
  private management: ManagementClient | null = null;
  /** A background recovery in progress; stop() waits for it so it cannot leave a server behind. */
  private recovering: Promise<void> | null = null;

  constructor(
    readonly spec: OpenvpnProcessSpec,
    private readonly ctx: ProcessContext,
  ) {
    this.paths = pathsOf(ctx.runDir, spec.name);
  }

  get name(): string {
    return this.spec.name;
  }

  /** The live management connection, if any. */
  get client(): ManagementClient | null {
    return this.management?.isOpen ? this.management : null;
  }

  private get logPath(): string {
    return join(this.ctx.logDir, `${this.spec.name}.log`);
  }

  /**
   * Connects to a running server with this exact config (one a previous agent left, or ours after
   * losing its management connection), or starts one. Resolves once the server reports CONNECTED
   * on its management socket. Also the recovery step after any failure.
   */
  async start(): Promise<void> {
    const pid = await this.runningPid();
    if (pid !== null && (await readFile(this.paths.config, 'utf8').catch(() => null)) === this.spec.config) {
      if (pid !== this.pid) this.ctx.logger.info('openvpn: adopting running server', { process: this.name, pid });
      this.pid = pid;
      this.startedAt = Date.now();
      try {
        await this.connect();
        return;
      } catch (err) {
        this.ctx.logger.warn('openvpn: running server does not answer; restarting it', { process: this.name, pid, error: (err as Error).message });
      }
    }
    if (pid !== null) await killServer(pid, this.paths.config);
    await this.launch();
  }

  private async runningPid(): Promise<number | null> {
    const text = await readFile(this.paths.pid, 'utf8').catch(() => '');
    const pid = Number.parseInt(text, 10);
    return pid > 0 && (await isOurServer(pid, this.paths.config)) ? pid : null;
  }

  private async launch(): Promise<void> {
    if (!this.supervised) return;
    await writeFileAtomic(this.paths.config, this.spec.config);
    await rm(this.paths.socket, { force: true });
    const log = await open(this.logPath, 'w', 0o600);
    const argv = ['--config', this.paths.config];
    // `ip netns exec` execs in place, so the pid is OpenVPN's own.
    const [cmd, args] = this.ctx.netns ? ['ip', ['netns', 'exec', this.ctx.netns, this.ctx.openvpnPath, ...argv]] : [this.ctx.openvpnPath, argv];
    let child: ChildProcess;
    try {
      child = spawn(cmd, args, { detached: true, stdio: ['ignore', log.fd, log.fd] });
    } finally {
      await log.close();
    }
    this.child = child;
    this.startedAt = Date.now();
    const exited = new AbortController();
    child.once('error', (err) => {
      this.ctx.logger.error('openvpn: could not start', { process: this.name, error: err.message });
      exited.abort(err);
      this.exited(child);
    });
    child.once('exit', (code, signal) => {
      exited.abort(new Error(`openvpn exited (${signal ?? `code ${code}`})`));
      this.exited(child, code, signal);
    });
    if (child.pid === undefined) throw new Error(`could not start openvpn for ${this.name}`);
    this.pid = child.pid;
    await writeFileAtomic(this.paths.pid, `${child.pid}\n`);
    try {
      await this.connect(exited.signal);
    } catch (err) {
      const tail = await this.logTail();
      if (this.child === child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw new Error(`openvpn ${this.name} did not come up: ${(err as Error).message}\n${tail}`);
    }
    this.ctx.logger.info('openvpn: server started', { process: this.name, pid: child.pid });
  }

  /** Connects to the management socket and waits until the server finished initializing. */
  private async connect(signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    let client: ManagementClient | null = null;
    client = await connectManagement(this.paths.socket, {
      timeoutMs: START_TIMEOUT_MS,
      ...(signal ? { signal } : {}),
      onMessage: (m, c) => {
        // A held server (at start, and again after an internal restart) waits for the agent.
        if (m.kind === 'notification' && m.tag === 'HOLD') void this.release(c);
        this.ctx.onMessage(this, m, c);
      },
      onClose: () => client && this.managementClosed(client),
    });
    try {
      await client.command('hold release');
      // The socket opens before the tun device and the port; CONNECTED means both are there.
      while (!(await client.state()).some((row) => row.split(',')[1] === 'CONNECTED')) {
        signal?.throwIfAborted();
        if (Date.now() > deadline) throw new Error('server did not reach CONNECTED');
        await sleep(100);
      }
    } catch (err) {
      client.close();
      throw err;
    }
    this.management = client;
    this.ctx.onConnected(this, client);
  }

  private async release(client: ManagementClient): Promise<void> {
    await client.command('hold release').catch((err: Error) => this.ctx.logger.warn('openvpn: could not release hold', { process: this.name, error: err.message }));
  }

  /**
   * The connection ended: the server exited (for an adopted server, which is not our child, this is
   * the only sign), or a command timed out. start() reconnects or relaunches, whichever fits.
   */
  private managementClosed(client: ManagementClient): void {
    if (this.management !== client) return;
    this.management = null;
    if (!this.supervised) return;
    this.ctx.logger.warn('openvpn: management connection lost', { process: this.name });
    this.schedule();
  }

  private exited(child: ChildProcess, code?: number | null, signal?: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    this.child = null;
    this.pid = null;
    const management = this.management;
    this.management = null;
    management?.close();
    if (!this.supervised) return;
    void this.logTail().then((tail) => this.ctx.logger.warn('openvpn: server exited unexpectedly', { process: this.name, code, signal, log: tail }));
    this.schedule();
  }

  /**
   * Runs start() after an exponential backoff, again after each failure, until it succeeds or
   * supervision ends. One recovery at a time: an exit seen during one is handled by its outcome.
   */
  private schedule(): void {
    if (!this.supervised || this.timer || this.recovering) return;
    if (Date.now() - this.startedAt > STABLE_MS) this.backoffMs = BACKOFF_MIN_MS;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, BACKOFF_MAX_MS);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.supervised) return;
      this.recovering = this.start().then(
        () => {
          this.recovering = null;
        },
        (err: Error) => {
          this.recovering = null;
          this.ctx.logger.warn('openvpn: restart failed', { process: this.name, error: err.message.split('\n')[0] });
          this.schedule();
        },
      );
    }, delay);
  }

  /** Retries a failed start() in the background (the caller already got the error). */
  retryLater(): void {
    this.schedule();
  }

  private async logTail(): Promise<string> {
    const text = await readFile(this.logPath, 'utf8').catch(() => '');
    return text.split('\n').slice(-15).join('\n');
  }

  /** Ends supervision and stops the server; removes its config, pid and socket files. */
  async stop(): Promise<void> {
    this.detach();
    await this.recovering;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await gone;
      clearTimeout(timer);
    } else if (!child && this.pid !== null) {
      await killServer(this.pid, this.paths.config);
    }
    this.child = null;
    this.pid = null;
    await Promise.all([this.paths.config, this.paths.pid, this.paths.socket, this.logPath].map((f) => rm(f, { force: true })));
  }

  /** Ends supervision but leaves the server running for the next agent to adopt. */
  detach(): void {
    this.supervised = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.management?.close();
    this.management = null;
    this.child?.unref();
  }
}
