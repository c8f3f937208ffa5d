/**
 * A client for one OpenVPN management unix socket. OpenVPN serves one management connection at a
 * time and answers commands strictly in order, so commands go through a queue with one outstanding
 * at a time; notifications arrive in between and go to `onMessage`.
 */
import { createConnection, type Socket } from 'node:net';
import { ManagementParser, parseStatus3, type ManagementMessage, type StatusClient } from './management-protocol.ts';

export interface ManagementOptions {
  /**
   * Real-time messages (`>CLIENT:…` blocks and the like), in arrival order. The client comes along
   * because a `>CLIENT:CONNECT` may arrive in the same read as the greeting, before
   * connectManagement() has returned it.
   */
  onMessage?: (m: ManagementMessage, client: ManagementClient) => void;
  /** The connection ended (OpenVPN exited, or close() was called); `error` if it broke. */
  onClose?: (error?: Error) => void;
  /** A command not answered within this is treated as a broken connection. */
  commandTimeoutMs?: number;
}

export interface ConnectOptions extends ManagementOptions {
  /** How long to keep retrying while the process starts and has not created the socket yet. */
  timeoutMs?: number;
  retryMs?: number;
  /** Stops retrying early, e.g. when the process has already exited. */
  signal?: AbortSignal;
}

interface Pending {
  command: string;
  multiline: boolean;
  lines: string[];
  resolve: (lines: string[]) => void;
  reject: (err: Error) => void;
}

export class ManagementError extends Error {
  override readonly name = 'ManagementError';
}

/** Reasons end up as one quoted argument; anything else could end the command or start another. */
function quoteReason(reason: string): string {
  return `"${reason.replace(/[^A-Za-z0-9 ._:,()/-]/g, '_').slice(0, 200)}"`;
}

export class ManagementClient {
  private readonly parser = new ManagementParser();
  private readonly queue: Pending[] = [];
  private current: Pending | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly options: ManagementOptions = {},
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      for (const m of this.parser.feed(chunk)) this.dispatch(m);
    });
    socket.on('error', (err) => this.finish(err));
    socket.on('close', () => this.finish());
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  private dispatch(m: ManagementMessage): void {
    if (m.kind !== 'reply') {
      this.options.onMessage?.(m, this);
      return;
    }
    const cur = this.current;
    if (!cur) return; // a reply nobody waits for (e.g. to a command of a timed-out predecessor)
    const { line } = m;
    if (line.startsWith('ERROR:')) {
      this.settle(null, new ManagementError(`${cur.command.split(' ')[0]}: ${line.slice(6).trim()}`));
      return;
    }
    if (!cur.multiline) {
      if (line.startsWith('SUCCESS:')) this.settle([line.slice(8).trim()]);
      return; // single-line commands answer with SUCCESS or ERROR only
    }
    if (line === 'END') {
      this.settle(cur.lines);
      return;
    }
    cur.lines.push(line);
  }

  private settle(lines: string[] | null, err?: Error): void {
    const cur = this.current;
    this.current = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (cur) {
      if (err) cur.reject(err);
      else cur.resolve(lines ?? []);
    }
    this.pump();
  }

  private pump(): void {
    if (this.current || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    this.current = next;
    // A silent OpenVPN leaves the line protocol in an unknown state: drop the connection.
    this.timer = setTimeout(() => this.socket.destroy(new ManagementError(`no reply to "${next.command.split(' ')[0]}"`)), this.options.commandTimeoutMs ?? 10_000);
    this.socket.write(`${next.command}\n`);
  }

  private finish(error?: Error): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const gone = new ManagementError(`management connection closed${error ? `: ${error.message}` : ''}`);
    for (const p of [...(this.current ? [this.current] : []), ...this.queue.splice(0)]) p.reject(gone);
    this.current = null;
    this.socket.destroy();
    this.options.onClose?.(error);
  }

  /** Sends one command; resolves with its reply lines (`SUCCESS:` text, or the rows before `END`). */
  command(command: string, multiline = false): Promise<string[]> {
    if (this.closed) return Promise.reject(new ManagementError('management connection closed'));
    if (/[\r\n]/.test(command)) return Promise.reject(new ManagementError('a command is one line'));
    return new Promise((resolve, reject) => {
      this.queue.push({ command, multiline, lines: [], resolve, reject });
      this.pump();
    });
  }

  async status(): Promise<StatusClient[]> {
    return parseStatus3(await this.command('status 3', true));
  }

  /** The `state` rows, e.g. `1700000000,CONNECTED,SUCCESS,10.8.0.1,,,,` once the server is up. */
  state(): Promise<string[]> {
    return this.command('state', true);
  }

  /** Admits a client that waits in `>CLIENT:CONNECT` or `>CLIENT:REAUTH`, with no extra config. */
  async clientAuthNt(cid: number, kid: number): Promise<void> {
    await this.command(`client-auth-nt ${cid} ${kid}`);
  }

  /** Refuses it; `reason` goes to the server log (the client only learns AUTH_FAILED). */
  async clientDeny(cid: number, kid: number, reason: string): Promise<void> {
    await this.command(`client-deny ${cid} ${kid} ${quoteReason(reason)}`);
  }

  /** `HALT` tells the client to exit instead of reconnecting (the default would be RESTART). */
  async clientKill(cid: number, message: 'HALT' | 'RESTART' = 'HALT'): Promise<void> {
    await this.command(`client-kill ${cid} ${message}`);
  }

  close(): void {
    this.finish();
  }
}

const RETRYABLE = new Set(['ENOENT', 'ECONNREFUSED', 'EAGAIN']);

function once(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}

/**
 * Connects, retrying while the socket is missing or refuses (the process is still starting, or
 * another client holds the single management slot), and waits for OpenVPN's `>INFO` greeting, which
 * proves this connection is the one being served.
 */
export async function connectManagement(path: string, options: ConnectOptions = {}): Promise<ManagementClient> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    options.signal?.throwIfAborted();
    let socket: Socket | null = null;
    try {
      socket = await once(path);
      return await greeted(socket, options, deadline);
    } catch (err) {
      socket?.destroy();
      const code = (err as NodeJS.ErrnoException).code ?? '';
      const retryable = RETRYABLE.has(code) || err instanceof ManagementError;
      if (!retryable || Date.now() >= deadline) throw err;
    }
    await new Promise((r) => setTimeout(r, options.retryMs ?? 100));
  }
}

function greeted(socket: Socket, options: ConnectOptions, deadline: number): Promise<ManagementClient> {
  return new Promise((resolve, reject) => {
    let client: ManagementClient | null = null;
    const timer = setTimeout(() => fail(new ManagementError('no >INFO greeting')), Math.max(0, deadline - Date.now()));
    const fail = (err: Error) => {
      clearTimeout(timer);
      client?.close();
      reject(err);
    };
    let ready = false;
    client = new ManagementClient(socket, {
      ...options,
      onMessage: (m) => {
        if (!ready && m.kind === 'notification' && m.tag === 'INFO') {
          ready = true;
          clearTimeout(timer);
          resolve(client as ManagementClient);
          return;
        }
        options.onMessage?.(m, client as ManagementClient);
      },
      onClose: (err) => {
        if (!ready) return fail(new ManagementError(`closed before the greeting${err ? `: ${err.message}` : ''}`));
        options.onClose?.(err);
      },
    });
  });
}
