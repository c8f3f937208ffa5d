import { availableParallelism, loadavg, uptime } from 'node:os';
import WebSocket from 'ws';
import { PROTOCOL_VERSION, applyChanges, parseHubMessage, type DesiredConfig, type HubMessage, type NodeMessage } from '@edgeport/schema';
import type { Logger } from './backends/types.ts';
import { Backoff } from './backoff.ts';
import { backoffAfter, channelUrl, explain, failureOfClose, isRefusal, nextPortal, onDelta, type Failure } from './channel-logic.ts';
import { heartbeatMessage } from './reports.ts';

export type Capability = 'wireguard' | 'openvpn';

/** What the channel needs from the agent: the config it holds, and a way to install a new one. */
export interface ChannelHost {
  /** The config the node holds (the one on disk), null before its first snapshot. */
  desired(): DesiredConfig | null;
  /** Persists, adopts and applies a config; true once the machine matches it (only then is it acked). */
  install(config: DesiredConfig): Promise<boolean>;
  /** The revision last applied to the machine without error: what an ack may claim. */
  appliedRevision(): number | null;
  wgPublicKey(): string | null;
  capabilities(): Capability[];
  /** The portal signed an OpenVPN server certificate this node asked for. */
  certificate(profileId: string, certPem: string): Promise<void>;
}

export interface ChannelOptions {
  portals: readonly URL[];
  nodeId: string;
  credential: string;
  agentVersion: string;
  heartbeatMs: number;
  logger: Logger;
  host: ChannelHost;
  backoff?: Backoff;
  onConnected?: (connected: boolean) => void;
  /** Every attempt after the first (a reconnect). */
  onReconnect?: () => void;
  /**
   * The connection works (see `ready`). Requests that the portal may refuse with a `protocol`
   * error wait for this: before it, such an error reads as the portal rejecting our hello.
   */
  onEstablished?: () => void;
  /** An open connection that stays error-free this long counts as established even if the hub had nothing to send. */
  settleMs?: number;
  handshakeTimeoutMs?: number;
}

/** One WebSocket and what we know about it; events from a socket that is no longer current are dropped. */
interface Connection {
  ws: WebSocket;
  portal: URL;
  opened: boolean;
  established: boolean;
  failure: Failure | null;
  errorDetail: string | null;
  /** A need_snapshot is outstanding: later deltas are not worth asking again for. */
  awaitingSnapshot: boolean;
  lastAck: number | null;
  lastSeen: number;
  timers: NodeJS.Timeout[];
  /** Hub messages are handled one at a time, in order: installs are async. */
  queue: Promise<void>;
}

/**
 * The agent's end of the node channel (docs/architecture.md "Node protocol"): one WebSocket to
 * `<portal>/node/ws`, hello on open, snapshots and deltas installed in order and acked, a
 * heartbeat that doubles as the liveness check, and reconnects forever with full-jitter backoff.
 */
export class ChannelClient {
  private conn: Connection | null = null;
  private stopped = false;
  private portalIndex = 0;
  private attempts = 0;
  private retry: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;

  constructor(private readonly o: ChannelOptions) {
    if (!o.portals.length) throw new Error('ChannelClient: no portal URL');
    this.backoff = o.backoff ?? new Backoff();
  }

  start(): void {
    this.connect();
  }

  get connected(): boolean {
    return this.conn?.opened === true && this.conn.ws.readyState === WebSocket.OPEN;
  }

  /** Connected, and past the point where a `protocol` error would end the connection. */
  get ready(): boolean {
    return this.connected && this.conn?.established === true;
  }

  /** Sends a report if a connection is open; reports are periodic, so one lost while away is not kept. */
  send(message: NodeMessage): boolean {
    const c = this.conn;
    if (!c || !this.connected) return false;
    c.ws.send(JSON.stringify(message));
    return true;
  }

  /** The agent applied `revision` outside a hub message (a retry of a failed apply): tell the hub. */
  applied(revision: number): void {
    if (this.conn && this.connected) this.ack(this.conn, revision);
  }

  /** The node's WireGuard key became known after hello (first start): a second hello tells the hub, which handles it idempotently. */
  keyChanged(): void {
    if (this.conn && this.connected) this.hello(this.conn);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.conn;
    if (!c) return;
    for (const t of c.timers) clearTimeout(t);
    // An install in progress finishes first (bounded): its file write and backend calls are not cut off.
    await Promise.race([c.queue, new Promise((r) => setTimeout(r, 10_000).unref())]);
    await new Promise<void>((resolve) => {
      if (c.ws.readyState === WebSocket.CLOSED) return resolve();
      c.ws.once('close', () => resolve());
      if (c.ws.readyState === WebSocket.CONNECTING) c.ws.terminate();
      else c.ws.close(1000, 'agent stopping');
      setTimeout(() => {
        c.ws.terminate();
        resolve();
      }, 2000).unref();
    });
  }

  private connect(): void {
    this.retry = null;
    if (this.stopped) return;
    this.attempts += 1;
    if (this.attempts > 1) this.o.onReconnect?.();
    const portal = this.o.portals[this.portalIndex] as URL;
    this.o.logger.info('connecting to the portal', { portal: portal.origin, attempt: this.attempts });
    const ws = new WebSocket(channelUrl(portal), {
      headers: { authorization: `Bearer ${this.o.credential}`, 'x-edgeport-node': this.o.nodeId },
      handshakeTimeout: this.o.handshakeTimeoutMs ?? 15_000,
    });
    const c: Connection = {
      ws,
      portal,
      opened: false,
      established: false,
      failure: null,
      errorDetail: null,
      awaitingSnapshot: false,
      lastAck: null,
      lastSeen: Date.now(),
      timers: [],
      queue: Promise.resolve(),
    };
    this.conn = c;

    ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      c.failure = isRefusal(status) ? { kind: 'refused', status } : { kind: 'network', detail: `HTTP ${status} on the upgrade` };
      res.resume();
      ws.terminate();
    });
    ws.on('open', () => this.onOpen(c));
    ws.on('message', (data, isBinary) => {
      if (this.conn !== c) return;
      c.lastSeen = Date.now();
      const text = isBinary ? Buffer.from(data as Buffer).toString('utf8') : String(data);
      c.queue = c.queue.then(() => this.onMessage(c, text)).catch((err: unknown) => this.o.logger.error('handling a portal message failed', { error: String(err) }));
    });
    ws.on('pong', () => {
      c.lastSeen = Date.now();
    });
    ws.on('error', (err) => {
      c.errorDetail = err.message;
    });
    ws.on('close', (code, reason) => this.onClose(c, code, reason.toString()));
  }

  private onOpen(c: Connection): void {
    if (this.conn !== c) return;
    c.opened = true;
    c.lastSeen = Date.now();
    this.o.logger.info('connected to the portal', { portal: c.portal.origin });
    this.o.onConnected?.(true);
    this.hello(c);
    c.timers.push(setTimeout(() => this.establish(c), this.o.settleMs ?? 5_000));
    c.timers.push(setInterval(() => this.beat(c), this.o.heartbeatMs));
  }

  /** Heartbeat message plus a WebSocket ping; a portal silent for three beats (at least 30 s) is dropped. */
  private beat(c: Connection): void {
    if (this.conn !== c || c.ws.readyState !== WebSocket.OPEN) return;
    const deadAfter = Math.max(3 * this.o.heartbeatMs, 30_000);
    if (Date.now() - c.lastSeen > deadAfter) {
      this.o.logger.warn('the portal went silent, reconnecting', { portal: c.portal.origin, silent_ms: Date.now() - c.lastSeen });
      c.ws.terminate();
      return;
    }
    this.sendOn(c, heartbeatMessage(this.o.host.appliedRevision(), { loadAverage: loadavg(), cpuCount: availableParallelism(), uptimeS: uptime() }, this.o.host.wgPublicKey()));
    c.ws.ping();
  }

  private onClose(c: Connection, code: number, reason: string): void {
    for (const t of c.timers) clearTimeout(t);
    if (this.conn !== c) return;
    this.conn = null;
    if (c.opened) this.o.onConnected?.(false);
    if (this.stopped) return;
    const failure = c.failure ?? (c.opened ? failureOfClose(code, reason || c.errorDetail || '') : { kind: 'network', detail: c.errorDetail ?? `closed (${code})` });
    this.scheduleRetry(c.portal, failure);
  }

  private scheduleRetry(portal: URL, failure: Failure): void {
    const how = backoffAfter(failure);
    const ceiling = this.backoff.ceilingMs;
    const delay = how === 'cap' ? this.backoff.refused() : this.backoff.next();
    const level = failure.kind === 'refused' || failure.kind === 'revoked' ? 'error' : 'warn';
    this.o.logger[level]('portal connection ended', {
      portal: portal.origin,
      failure: failure.kind,
      detail: explain(failure),
      retry_in_ms: delay,
      retry_ceiling_ms: how === 'cap' ? delay : ceiling,
    });
    this.portalIndex = nextPortal(this.portalIndex, this.o.portals.length);
    this.retry = setTimeout(() => this.connect(), delay);
  }

  /** The connection works (the hub sent config, or stayed quiet without complaint): the next failure starts over at 1 s. */
  private establish(c: Connection): void {
    if (c.established || this.conn !== c) return;
    c.established = true;
    this.backoff.reset();
    this.o.onEstablished?.();
  }

  private hello(c: Connection): void {
    const h = this.o.host;
    this.sendOn(c, {
      type: 'hello',
      protocol: PROTOCOL_VERSION,
      node_id: this.o.nodeId,
      agent_version: this.o.agentVersion,
      applied_revision: h.desired()?.revision ?? null,
      wg_public_key: h.wgPublicKey(),
      capabilities: h.capabilities(),
    });
  }

  private ack(c: Connection, revision: number, again = false): void {
    if (!again && c.lastAck === revision) return;
    c.lastAck = revision;
    this.sendOn(c, { type: 'ack', revision });
  }

  private sendOn(c: Connection, m: NodeMessage): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(m));
  }

  private async onMessage(c: Connection, text: string): Promise<void> {
    if (this.conn !== c) return;
    const parsed = parseHubMessage(text);
    // docs/conventions.md §8: a newer portal's message types are logged and ignored, never fatal.
    if (parsed.kind === 'unknown') return this.o.logger.warn('unknown portal message ignored', { type: parsed.type });
    if (parsed.kind === 'invalid') {
      this.o.logger.warn('invalid portal message ignored', { error: parsed.error.slice(0, 300) });
      return this.sendOn(c, { type: 'error', code: 'protocol', message: `invalid message: ${parsed.error.slice(0, 300)}` });
    }
    const m = parsed.message;
    switch (m.type) {
      case 'snapshot':
        return this.onSnapshot(c, m);
      case 'delta':
        return this.onDeltaMessage(c, m);
      case 'certificate':
        return this.o.host.certificate(m.profile_id, m.cert);
      case 'error':
        return this.onHubError(c, m);
    }
  }

  private async onSnapshot(c: Connection, m: Extract<HubMessage, { type: 'snapshot' }>): Promise<void> {
    c.awaitingSnapshot = false;
    if (m.config.node_id !== this.o.nodeId) {
      this.o.logger.error('snapshot for another node ignored', { node: m.config.node_id });
      return;
    }
    if (m.protocol !== PROTOCOL_VERSION) this.o.logger.warn('snapshot from a portal on another protocol version', { portal_protocol: m.protocol, agent_protocol: PROTOCOL_VERSION });
    this.o.logger.info('snapshot received', { revision: m.config.revision, peers: m.config.peers.length, profiles: m.config.profiles.length });
    const ok = await this.o.host.install(m.config);
    this.establish(c);
    if (ok) this.ack(c, m.config.revision, true);
  }

  private async onDeltaMessage(c: Connection, m: Extract<HubMessage, { type: 'delta' }>): Promise<void> {
    const held = this.o.host.desired();
    const decision = onDelta(held?.revision ?? null, m);
    if (decision === 'apply' && held) {
      const ok = await this.o.host.install(applyChanges(held, m.revision, m.changes));
      this.establish(c);
      if (ok) this.ack(c, m.revision);
      return;
    }
    if (decision === 'ignore') {
      // A replay: our ack may be what got lost, so say again what we have.
      this.establish(c);
      const applied = this.o.host.appliedRevision();
      if (applied !== null) this.ack(c, applied, true);
      return;
    }
    if (c.awaitingSnapshot) return;
    c.awaitingSnapshot = true;
    const reason = `delta ${m.base}->${m.revision} does not follow the applied revision ${held?.revision ?? 'none'}`;
    this.o.logger.warn('asking the portal for a snapshot', { reason });
    this.sendOn(c, { type: 'need_snapshot', reason });
  }

  private onHubError(c: Connection, m: Extract<HubMessage, { type: 'error' }>): void {
    switch (m.code) {
      case 'revoked':
      case 'unauthorized':
        this.o.logger.error('the portal refused this node', { code: m.code, message: m.message });
        c.failure = { kind: 'revoked', detail: `${m.code}: ${m.message}` };
        c.ws.close(1000, 'refused by the portal');
        return;
      case 'protocol':
        this.o.logger.error('the portal reports a protocol error', { message: m.message });
        // Before anything worked this is the answer to our hello (e.g. a version the portal does not speak).
        if (!c.established) {
          c.failure = { kind: 'rejected', detail: m.message };
          c.ws.close(1000, 'hello rejected');
        }
        return;
      case 'internal':
        this.o.logger.warn('the portal reports an internal error', { message: m.message });
        return;
    }
  }
}
