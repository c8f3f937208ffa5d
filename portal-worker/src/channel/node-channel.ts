import { DurableObject } from 'cloudflare:workers';
import { PROTOCOL_VERSION, parseNodeMessage, type Change, type HubMessage, type NodeMessage } from '@edgeport/schema';
import { parseConfig } from '../config.ts';
import { dbFor } from '../db/connect.ts';
import { ensureSchema } from '../db/ensure-schema.ts';
import type { Db } from '../db/types.ts';
import type { Bindings } from '../env.ts';
import { desiredConfigFor } from '../store/desired.ts';
import { pinWireguardKey } from '../store/nodes.ts';
import { vpnCa } from '../vpn/ca-secret.ts';
import { answerCsr } from './certificates.ts';
import { onOpenvpnEvent, onSessionsReport } from './openvpn-events.ts';
import { catchUp, deltaMessage, type StoredDelta } from './session-logic.ts';

/** How many deltas the object keeps for nodes that come back after a short absence. */
const KEEP_DELTAS = 1000;
/** Status rows in the database are refreshed at most this often per node. */
const STATUS_EVERY_MS = 5_000;
/** Heartbeats re-check the node's pinned key this often. */
const KEY_RECHECK_MS = 60_000;

interface Attachment {
  nodeId: string;
  connectedAt: number;
}

export type LastSessions = Pick<Extract<NodeMessage, { type: 'sessions' }>, 'at' | 'peers' | 'clients'>;

export interface ChannelStatus {
  connected: boolean;
  revision: number;
  applied: number | null;
  lastSeenAt: number | null;
}

/**
 * One per node (named by node id). Holds the node's WebSocket with the hibernation API, numbers
 * every change with a per-node revision, sends snapshots and deltas, and records acks,
 * heartbeats and session reports. The class stays thin: decisions live in session-logic.ts, and
 * every socket callback is wrapped so one bad frame cannot break the object.
 */
type StatusFields = { connected: 0 | 1; agent_version?: string; applied_revision?: number | null; load_json?: string; sessions_json?: string };

export class NodeChannel extends DurableObject<Bindings> {
  private waiters: { revision: number; resolve: (acked: boolean) => void }[] = [];
  private lastStatusWrite = 0;
  private lastStatsMinute = -1;
  private pendingStatus: Partial<StatusFields> | null = null;
  /** The highest count written so far this minute, per profile and protocol. */
  private statsWritten = new Map<string, number>();

  private async db(): Promise<Db> {
    const db = dbFor(this.env, parseConfig(this.env));
    await ensureSchema(db);
    return db;
  }

  /** Health for node choice: any valid frame counts (heartbeats every ~10 s keep it fresh). */
  private async seen(): Promise<void> {
    const now = Date.now();
    const last = (await this.ctx.storage.get<number>('lastSeen')) ?? 0;
    if (now - last >= 1000) await this.ctx.storage.put('lastSeen', now);
  }

  private async revision(): Promise<number> {
    return (await this.ctx.storage.get<number>('revision')) ?? 0;
  }

  private sockets(): WebSocket[] {
    return this.ctx.getWebSockets();
  }

  private send(ws: WebSocket, message: HubMessage): void {
    ws.send(JSON.stringify(message));
  }

  /** Upgrades an already authenticated node connection (the worker checked the credential). */
  override async fetch(request: Request): Promise<Response> {
    const nodeId = request.headers.get('x-edgeport-verified-node');
    if (request.headers.get('upgrade') !== 'websocket' || !nodeId) return new Response('expected a node WebSocket', { status: 400 });
    // One connection per node: a new one replaces the old (the agent reconnected).
    for (const old of this.sockets()) old.close(4000, 'replaced by a newer connection');
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server);
    server.serializeAttachment({ nodeId, connectedAt: Date.now() } satisfies Attachment);
    await this.ctx.storage.put('nodeId', nodeId);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * Frames are handled one at a time, in arrival order: a handler awaits the database, and the
   * runtime would otherwise start the next frame meanwhile (a disconnect event overtaking its
   * connect, an ack racing the hello it answers).
   */
  override webSocketMessage(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    const run = this.inbox.then(() => this.receive(ws, raw));
    this.inbox = run;
    return run;
  }

  private inbox: Promise<void> = Promise.resolve();

  private async receive(ws: WebSocket, raw: string | ArrayBuffer): Promise<void> {
    try {
      const parsed = parseNodeMessage(typeof raw === 'string' ? raw : new TextDecoder().decode(raw));
      if (parsed.kind === 'unknown') return void console.log(JSON.stringify({ level: 'warn', msg: 'unknown node message ignored', type: parsed.type }));
      if (parsed.kind === 'invalid') return this.send(ws, { type: 'error', code: 'protocol', message: `invalid message: ${parsed.error.slice(0, 300)}` });
      await this.seen();
      await this.handle(ws, ws.deserializeAttachment() as Attachment, parsed.message);
    } catch (err) {
      console.error(JSON.stringify({ level: 'error', msg: 'node message failed', error: (err as Error).message }));
      try {
        this.send(ws, { type: 'error', code: 'internal', message: 'the portal could not handle that message' });
      } catch {}
    }
  }

  override async webSocketClose(ws: WebSocket): Promise<void> {
    try {
      await this.writeStatus((ws.deserializeAttachment() as Attachment).nodeId, { connected: 0 }, true);
    } catch {}
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.webSocketClose(ws);
  }

  private async handle(ws: WebSocket, a: Attachment, m: NodeMessage): Promise<void> {
    switch (m.type) {
      case 'hello': {
        if (m.node_id !== a.nodeId) return this.send(ws, { type: 'error', code: 'unauthorized', message: 'node_id does not match the credential' });
        if (m.protocol !== PROTOCOL_VERSION) return this.send(ws, { type: 'error', code: 'protocol', message: `portal speaks protocol ${PROTOCOL_VERSION}` });
        await this.ctx.storage.put('agentVersion', m.agent_version);
        if (m.wg_public_key) await this.noteWireguardKey(a.nodeId, m.wg_public_key);
        await this.catchUpNode(ws, a.nodeId, m.applied_revision);
        await this.writeStatus(a.nodeId, { connected: 1, agent_version: m.agent_version, applied_revision: m.applied_revision }, true);
        return;
      }
      case 'ack':
        await this.acked(a.nodeId, m.revision);
        return;
      case 'need_snapshot':
        await this.sendSnapshot(ws, a.nodeId);
        return;
      case 'heartbeat':
        if (m.wg_public_key && Date.now() - this.keyCheckedAt >= KEY_RECHECK_MS) await this.noteWireguardKey(a.nodeId, m.wg_public_key);
        await this.writeStatus(a.nodeId, { connected: 1, load_json: JSON.stringify({ load_average: m.load_average, cpu_count: m.cpu_count, uptime_s: m.uptime_s }) }, false);
        return;
      case 'sessions': {
        // The connections page reads who is connected from here; storage keeps it across hibernation.
        this.latestSessions = { at: m.at, peers: m.peers, clients: m.clients };
        try {
          await this.ctx.storage.put('lastSessions', this.latestSessions);
        } catch (err) {
          // A report too large for one stored value still serves from memory until the object sleeps.
          console.log(JSON.stringify({ level: 'warn', msg: 'sessions report not stored', node: a.nodeId, peers: m.peers.length, error: (err as Error).message }));
        }
        // The statistics keep each minute's peak. A report is written when the minute is new or a
        // count beats what this minute has so far: reports come every ~10 s, peaks are rarer.
        const minute = Math.floor(m.at / 60_000);
        if (minute !== this.lastStatsMinute) {
          this.lastStatsMinute = minute;
          this.statsWritten.clear();
        }
        const higher = m.counts.filter((c) => c.count > (this.statsWritten.get(`${c.profile_id}/${c.protocol}`) ?? -1));
        if (higher.length) {
          await onSessionsReport(await this.db(), a.nodeId, { ...m, counts: higher });
          for (const c of higher) this.statsWritten.set(`${c.profile_id}/${c.protocol}`, c.count);
        }
        await this.writeStatus(a.nodeId, { connected: 1, sessions_json: JSON.stringify({ at: m.at, counts: m.counts, peers: m.peers.length, clients: m.clients.length }) }, false);
        return;
      }
      case 'csr':
        return this.certificateRequest(ws, a.nodeId, m);
      case 'openvpn_event':
        return onOpenvpnEvent(await this.db(), a.nodeId, m);
      case 'error':
        console.log(JSON.stringify({ level: 'warn', msg: 'the node reports an error', node: a.nodeId, code: m.code, message: m.message }));
        return;
    }
  }

  /** A node's OpenVPN server key wants a certificate; a refusal leaves the socket open. */
  private async certificateRequest(ws: WebSocket, nodeId: string, m: Extract<NodeMessage, { type: 'csr' }>): Promise<void> {
    const outcome = await answerCsr(await this.db(), () => vpnCa(parseConfig(this.env)), nodeId, m, Date.now());
    switch (outcome.kind) {
      case 'issued':
        console.log(JSON.stringify({ level: 'info', msg: 'node server certificate issued', node: nodeId, profile: outcome.profileId, common_name: outcome.commonName, not_after: outcome.notAfter }));
        return this.send(ws, { type: 'certificate', profile_id: outcome.profileId, cert: outcome.certPem });
      case 'refused':
        console.log(JSON.stringify({ level: 'warn', msg: 'node certificate request refused', node: nodeId, profile: m.profile_id, reason: outcome.reason }));
        return this.send(ws, { type: 'error', code: 'protocol', message: `certificate request for profile "${m.profile_id}" refused: ${outcome.reason}`.slice(0, 2000) });
      case 'unavailable':
        console.error(JSON.stringify({ level: 'error', msg: 'cannot sign node certificates', node: nodeId, reason: outcome.reason }));
        return this.send(ws, { type: 'error', code: 'internal', message: 'the portal cannot sign server certificates right now' });
    }
  }

  private async catchUpNode(ws: WebSocket, nodeId: string, applied: number | null): Promise<void> {
    const current = await this.revision();
    const deltas = [...(await this.ctx.storage.list<StoredDelta>({ prefix: 'delta:' })).values()];
    const plan = catchUp(applied, current, deltas);
    if (plan.kind === 'snapshot') return this.sendSnapshot(ws, nodeId);
    if (plan.kind === 'deltas') for (const d of plan.deltas) this.send(ws, deltaMessage(d));
  }

  private async sendSnapshot(ws: WebSocket, nodeId: string): Promise<void> {
    const config = parseConfig(this.env);
    const revision = await this.revision();
    const desired = await desiredConfigFor(await this.db(), nodeId, revision, config.vpn.caCert ?? null, Date.now());
    this.send(ws, { type: 'snapshot', protocol: PROTOCOL_VERSION, config: desired });
  }

  /**
   * The key from a hello, and at most once a minute from heartbeats: a key the database lost
   * (forgotten by an admin) is pinned again without waiting for the agent to reconnect.
   */
  private async noteWireguardKey(nodeId: string, key: string): Promise<void> {
    this.keyCheckedAt = Date.now();
    const outcome = await pinWireguardKey(await this.db(), nodeId, key);
    if (outcome === 'pinned') console.log(JSON.stringify({ level: 'info', msg: 'node WireGuard key pinned', node: nodeId, public_key: key }));
    if (outcome === 'different')
      console.log(
        JSON.stringify({ level: 'warn', msg: 'the node reports another WireGuard key than the one pinned; clients get the pinned one until an admin forgets it', node: nodeId, reported: key }),
      );
  }

  private keyCheckedAt = 0;

  private async acked(nodeId: string, revision: number): Promise<void> {
    const applied = (await this.ctx.storage.get<number>('applied')) ?? -1;
    if (revision > applied) await this.ctx.storage.put('applied', revision);
    const ready = this.waiters.filter((w) => w.revision <= revision);
    this.waiters = this.waiters.filter((w) => w.revision > revision);
    for (const w of ready) w.resolve(true);
    // A new applied revision is written at once, so the admin view says "in sync" without waiting.
    await this.writeStatus(nodeId, { connected: 1, applied_revision: Math.max(applied, revision) }, ready.length > 0 || revision > applied);
  }

  private async writeStatus(nodeId: string, fields: StatusFields, force: boolean): Promise<void> {
    // A throttled write is kept and goes out merged into the next one: heartbeats and session
    // reports arriving close together must not shadow each other's fields for good.
    const merged = { ...this.pendingStatus, ...fields };
    const now = Date.now();
    if (!force && now - this.lastStatusWrite < STATUS_EVERY_MS) {
      this.pendingStatus = merged;
      return;
    }
    this.pendingStatus = null;
    this.lastStatusWrite = now;
    const db = await this.db();
    const row = { ...merged, wanted_revision: await this.revision(), last_seen_at: now, updated_at: now };
    const existing = await db.kysely.selectFrom('node_status').select('node_id').where('node_id', '=', nodeId).executeTakeFirst();
    if (existing) {
      await db.kysely.updateTable('node_status').set(row).where('node_id', '=', nodeId).execute();
      return;
    }
    // A socket closing after its node was deleted must not leave a status row behind it.
    if (!(await db.kysely.selectFrom('nodes').select('id').where('id', '=', nodeId).executeTakeFirst())) return;
    await db.kysely
      .insertInto('node_status')
      .values({ node_id: nodeId, agent_version: null, applied_revision: null, load_json: null, sessions_json: null, ...row })
      .execute();
  }

  // ---- RPC, called by the worker ----

  /**
   * Records a change under the next revision, sends it to the node if connected, and when
   * `waitMs` is given resolves once the node acknowledged it (or false after the wait).
   */
  async push(changes: Change[], waitMs = 0): Promise<{ revision: number; acked: boolean }> {
    const base = await this.revision();
    const revision = base + 1;
    await this.ctx.storage.put({ revision, [`delta:${String(revision).padStart(12, '0')}`]: { base, revision, changes } satisfies StoredDelta });
    if (revision > KEEP_DELTAS) await this.ctx.storage.delete(`delta:${String(revision - KEEP_DELTAS).padStart(12, '0')}`);
    const sockets = this.sockets();
    for (const ws of sockets) this.send(ws, deltaMessage({ base, revision, changes }));
    if (!waitMs || !sockets.length) return { revision, acked: false };
    return { revision, acked: await this.waitFor(revision, waitMs) };
  }

  /**
   * Profile and node edits: a new revision without a delta, so the node (now, or whenever it
   * returns) gets a snapshot rebuilt from the database.
   */
  async resync(waitMs = 0): Promise<{ revision: number; acked: boolean }> {
    // A node edit may have forgotten the node's key: the next heartbeat pins it again at once.
    this.keyCheckedAt = 0;
    const revision = (await this.revision()) + 1;
    await this.ctx.storage.put('revision', revision);
    const sockets = this.sockets();
    const nodeId = await this.ctx.storage.get<string>('nodeId');
    if (!nodeId || !sockets.length) return { revision, acked: false };
    for (const ws of sockets) await this.sendSnapshot(ws, nodeId);
    return { revision, acked: waitMs ? await this.waitFor(revision, waitMs) : false };
  }

  private waitFor(revision: number, waitMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.waiters.push({ revision, resolve });
      setTimeout(() => resolve(false), waitMs);
    });
  }

  private latestSessions: LastSessions | null = null;

  /** The peers and clients of the node's latest `sessions` report, for the admin connections page. */
  async lastSessions(): Promise<LastSessions | null> {
    this.latestSessions ??= (await this.ctx.storage.get<LastSessions>('lastSessions')) ?? null;
    return this.latestSessions;
  }

  async status(): Promise<ChannelStatus> {
    const sockets = this.sockets();
    return {
      connected: sockets.length > 0,
      revision: await this.revision(),
      applied: (await this.ctx.storage.get<number>('applied')) ?? null,
      lastSeenAt: (await this.ctx.storage.get<number>('lastSeen')) ?? null,
    };
  }

  /** Revocation: the node is cut off now (and refused on reconnect by the credential check). */
  async disconnect(reason: string): Promise<void> {
    for (const ws of this.sockets()) {
      try {
        this.send(ws, { type: 'error', code: 'revoked', message: reason });
      } catch {}
      ws.close(4003, reason.slice(0, 100));
    }
  }
}
