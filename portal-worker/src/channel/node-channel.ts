import { DurableObject } from 'cloudflare:workers';
import { PROTOCOL_VERSION, parseNodeMessage, type Change, type HubMessage, type NodeMessage } from '@edgeport/schema';
import { parseConfig } from '../config/config.ts';
import { dbFor } from '../db/connect.ts';
import { ensureSchema } from '../db/ensure-schema.ts';
import type { Db } from '../core/db.ts';
import type { Bindings, ChannelStatus, LastSessions, NodeChannelRpc } from '../bindings.ts';
import { desiredConfigFor } from '../domain/desired-config.ts';
import { pinWireguardKey } from '../store/nodes.ts';
import { writeNodeStatus } from '../store/node-status.ts';
import { vpnCa } from '../domain/vpn-ca.ts';
import { answerCsr } from './certificates.ts';
import { onOpenvpnEvent, onSessionsReport } from './openvpn-events.ts';
import {
  acking,
  deltaDropped,
  deltaKey,
  freshMemory,
  helloRefusal,
  keyRecheckDue,
  loadJson,
  peaksToWrite,
  peaksWritten,
  seenDue,
  sessionsJson,
  statusWrite,
  type StatusFields,
} from './channel-rules.ts';
import { catchUp, deltaMessage, type StoredDelta } from './session-logic.ts';

interface Attachment {
  nodeId: string;
  connectedAt: number;
}

/**
 * One per node (named by node id). Holds the node's WebSocket with the hibernation API, numbers
 * every change with a per-node revision, sends snapshots and deltas, and records acks,
 * heartbeats and session reports. The class is a thin shell: socket, attachment, storage and
 * the database here; every decision in channel-rules.ts and session-logic.ts (pure, time passed
 * in); every socket callback wrapped so one bad frame cannot break the object.
 */

export class NodeChannel extends DurableObject<Bindings> implements NodeChannelRpc {
  private waiters: { revision: number; resolve: (acked: boolean) => void }[] = [];
  private readonly memory = freshMemory();

  private async db(): Promise<Db> {
    const db = dbFor(this.env, parseConfig(this.env));
    await ensureSchema(db);
    return db;
  }

  /** Health for node choice: any valid frame counts (heartbeats every ~10 s keep it fresh). */
  private async seen(): Promise<void> {
    const now = Date.now();
    if (seenDue((await this.ctx.storage.get<number>('lastSeen')) ?? 0, now)) await this.ctx.storage.put('lastSeen', now);
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
        const refusal = helloRefusal(m, a.nodeId);
        if (refusal) return this.send(ws, refusal);
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
        if (m.wg_public_key && keyRecheckDue(this.memory, Date.now())) await this.noteWireguardKey(a.nodeId, m.wg_public_key);
        await this.writeStatus(a.nodeId, { connected: 1, load_json: loadJson(m) }, false);
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
        const higher = peaksToWrite(this.memory, m.at, m.counts);
        if (higher.length) {
          await onSessionsReport(await this.db(), a.nodeId, { ...m, counts: higher });
          peaksWritten(this.memory, higher);
        }
        await this.writeStatus(a.nodeId, { connected: 1, sessions_json: sessionsJson(m) }, false);
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
    this.memory.keyCheckedAt = Date.now();
    const outcome = await pinWireguardKey(await this.db(), nodeId, key);
    if (outcome === 'pinned') console.log(JSON.stringify({ level: 'info', msg: 'node WireGuard key pinned', node: nodeId, public_key: key }));
    if (outcome === 'different')
      console.log(
        JSON.stringify({ level: 'warn', msg: 'the node reports another WireGuard key than the one pinned; clients get the pinned one until an admin forgets it', node: nodeId, reported: key }),
      );
  }

  private async acked(nodeId: string, revision: number): Promise<void> {
    const applied = (await this.ctx.storage.get<number>('applied')) ?? -1;
    if (revision > applied) await this.ctx.storage.put('applied', revision);
    const { ready, waiting } = acking(this.waiters, revision);
    this.waiters = waiting;
    for (const w of ready) w.resolve(true);
    // A new applied revision is written at once, so the admin view says "in sync" without waiting.
    await this.writeStatus(nodeId, { connected: 1, applied_revision: Math.max(applied, revision) }, ready.length > 0 || revision > applied);
  }

  private async writeStatus(nodeId: string, fields: StatusFields, force: boolean): Promise<void> {
    const now = Date.now();
    const write = statusWrite(this.memory, fields, now, force);
    if (!write) return;
    await writeNodeStatus(await this.db(), nodeId, { ...write, wanted_revision: await this.revision(), last_seen_at: now, updated_at: now });
  }

  // ---- RPC, called by the worker ----

  /**
   * Records a change under the next revision, sends it to the node if connected, and when
   * `waitMs` is given resolves once the node acknowledged it (or false after the wait).
   */
  async push(changes: Change[], waitMs = 0): Promise<{ revision: number; acked: boolean }> {
    const base = await this.revision();
    const revision = base + 1;
    await this.ctx.storage.put({ revision, [deltaKey(revision)]: { base, revision, changes } satisfies StoredDelta });
    const dropped = deltaDropped(revision);
    if (dropped) await this.ctx.storage.delete(dropped);
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
    this.memory.keyCheckedAt = 0;
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
