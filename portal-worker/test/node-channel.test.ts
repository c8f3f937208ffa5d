import { env } from 'cloudflare:workers';
import { type NodeSocket, open, portalFetch } from './test-node.ts';
import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION } from '@edgeport/schema';
import { catchUp } from '../src/channel/session-logic.ts';
import { dbFor } from './helpers.ts';
import { provision, wgPublicKey } from './connect-helpers.ts';

async function enrolledNode() {
  const p = await provision('d1', {}, {}, false);
  const { token } = await (await p.admin.api('POST', `/admin/api/nodes/${p.nodeId}/enrollment`)).json<{ token: string }>();
  const r = await portalFetch('http://portal.test/node/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: p.nodeId, token }) });
  const { credential } = await r.json<{ credential: string }>();
  return { ...p, credential, channel: env.NODE_CHANNEL.get(env.NODE_CHANNEL.idFromName(p.nodeId)) };
}

const peer = async (profileId: string, n: number) => ({ public_key: await wgPublicKey(), profile_id: profileId, ip_four: `10.0.0.${n}`, ip_six: `fd00::${n}`, expires_at: Date.now() + 60_000 });

describe('catch-up rule', () => {
  const d = (base: number, revision: number) => ({ base, revision, changes: [] });
  it.each([
    ['current', 3, 3, [d(2, 3)], 'none'],
    ['unknown', null, 3, [d(2, 3)], 'snapshot'],
    ['ahead of the portal', 9, 3, [d(2, 3)], 'snapshot'],
    ['behind with every delta kept', 1, 3, [d(1, 2), d(2, 3), d(0, 1)], 'deltas'],
    ['behind past what is kept', 0, 3, [d(1, 2), d(2, 3)], 'snapshot'],
  ] as const)('%s', (_n, applied, current, deltas, kind) => {
    expect(catchUp(applied, current, [...deltas]).kind).toBe(kind);
  });
});

describe('NodeChannel', () => {
  it('refuses a wrong credential and an unknown node', async () => {
    const n = await enrolledNode();
    expect((await open(n.nodeId, `${n.credential}x`)).status).toBe(401);
    expect((await open('no-such-node', n.credential)).status).toBe(401);
  });

  it('sends a snapshot to a new node, then deltas it acknowledges; connect-style pushes wait for the ack', async () => {
    const n = await enrolledNode();
    const { status, node } = await open(n.nodeId, n.credential);
    expect(status).toBe(101);
    const agent = node as NodeSocket;
    const nodeKey = await wgPublicKey();
    agent.hello(n.nodeId, null, nodeKey);
    const snapshot = await agent.next();
    expect(snapshot).toMatchObject({ type: 'snapshot', protocol: PROTOCOL_VERSION, config: { node_id: n.nodeId, revision: 0, peers: [], certificates: [] } });
    if (snapshot.type !== 'snapshot') throw new Error('expected a snapshot');
    expect(snapshot.config.profiles.map((p) => p.id)).toEqual([n.profileId]);
    expect(snapshot.config.ca_cert).toContain('BEGIN CERTIFICATE');

    const p1 = await peer(n.profileId, 2);
    const pushed = n.channel.push([{ op: 'peer_add', peer: p1 }], 2000);
    const delta = await agent.next();
    expect(delta).toEqual({ type: 'delta', base: 0, revision: 1, changes: [{ op: 'peer_add', peer: p1 }] });
    agent.send({ type: 'ack', revision: 1 });
    expect(await pushed).toEqual({ revision: 1, acked: true });

    // No ack within the wait: the caller learns it and can try another node.
    const late = await n.channel.push([{ op: 'peer_remove', public_key: p1.public_key }], 200);
    expect(late).toEqual({ revision: 2, acked: false });
    expect((await n.channel.status()).applied).toBe(1);
    agent.ws.close();
  });

  it('gives a returning node exactly the deltas it missed, and a snapshot when it lost its state', async () => {
    const n = await enrolledNode();
    const first = (await open(n.nodeId, n.credential)).node as NodeSocket;
    first.hello(n.nodeId, null);
    await first.next(3000, 'first snapshot');
    first.ws.close();
    // Changes while the node is away are kept as deltas.
    const a = await peer(n.profileId, 3);
    const b = await peer(n.profileId, 4);
    await n.channel.push([{ op: 'peer_add', peer: a }]);
    await n.channel.push([{ op: 'peer_add', peer: b }]);

    const back = (await open(n.nodeId, n.credential)).node as NodeSocket;
    back.hello(n.nodeId, 0);
    expect(await back.next(3000, 'delta 1')).toMatchObject({ type: 'delta', base: 0, revision: 1 });
    expect(await back.next()).toMatchObject({ type: 'delta', base: 1, revision: 2 });
    back.send({ type: 'ack', revision: 2 });

    const again = (await open(n.nodeId, n.credential)).node as NodeSocket;
    // The newer connection replaced the older one.
    await new Promise((r) => setTimeout(r, 50));
    expect(back.closed?.code).toBe(4000);
    again.hello(n.nodeId, 2);
    expect(await again.quiet()).toBe(true);
    again.send({ type: 'need_snapshot', reason: 'test' });
    expect(await again.next(3000, 'snapshot 2')).toMatchObject({ type: 'snapshot', config: { revision: 2 } });
    again.ws.close();
  });

  it('survives bad frames, ignores unknown types, and records heartbeats and the node key', async () => {
    const n = await enrolledNode();
    const db = await dbFor('d1');
    await db.kysely.updateTable('nodes').set({ wg_public_key: null }).where('id', '=', n.nodeId).execute();
    const agent = (await open(n.nodeId, n.credential)).node as NodeSocket;
    agent.send('this is not JSON');
    expect(await agent.next(3000, 'protocol error')).toMatchObject({ type: 'error', code: 'protocol' });
    agent.send({ type: 'from_a_newer_agent', x: 1 });
    expect(await agent.quiet()).toBe(true);
    const key = await wgPublicKey();
    agent.hello(n.nodeId, null, key);
    expect(await agent.next()).toMatchObject({ type: 'snapshot' });
    agent.send({ type: 'heartbeat', applied_revision: 0, load_average: [0.5, 0.4, 0.3], cpu_count: 2, uptime_s: 1234 });
    await new Promise((r) => setTimeout(r, 100));
    const status = await db.kysely.selectFrom('node_status').selectAll().where('node_id', '=', n.nodeId).executeTakeFirstOrThrow();
    expect(status).toMatchObject({ connected: 1, agent_version: 'test' });
    expect((await db.kysely.selectFrom('nodes').select('wg_public_key').where('id', '=', n.nodeId).executeTakeFirstOrThrow()).wg_public_key).toBe(key);
    // A hello naming another node is refused.
    agent.hello('someone-else', null);
    expect(await agent.next()).toMatchObject({ type: 'error', code: 'unauthorized' });
    agent.ws.close();
  });

  it('cuts a revoked node off at once and refuses it afterwards', async () => {
    const n = await enrolledNode();
    const agent = (await open(n.nodeId, n.credential)).node as NodeSocket;
    agent.hello(n.nodeId, null);
    await agent.next();
    expect((await n.admin.api('POST', `/admin/api/nodes/${n.nodeId}/revoke`)).status).toBe(200);
    expect(await agent.next()).toMatchObject({ type: 'error', code: 'revoked' });
    await new Promise((r) => setTimeout(r, 50));
    expect(agent.closed?.code).toBe(4003);
    expect((await open(n.nodeId, n.credential)).status).toBe(401);
  });
});

describe('reports from a node', () => {
  it("keeps each minute's peak session count and logs OpenVPN connections", async () => {
    const n = await enrolledNode();
    const db = await dbFor('d1');
    // A certificate the node will report a connection for.
    const user = (await db.kysely.selectFrom('users').select('id').limit(1).executeTakeFirstOrThrow()).id;
    await db.kysely
      .insertInto('certificates')
      .values({
        common_name: `cn${Date.now()}`,
        profile_id: n.profileId,
        node_id: n.nodeId,
        user_id: user,
        authorization_id: null,
        display_name: 'test',
        created_at: Date.now(),
        expires_at: Date.now() + 60_000,
      })
      .execute();
    const cert = await db.kysely.selectFrom('certificates').select('common_name').where('node_id', '=', n.nodeId).executeTakeFirstOrThrow();

    const agent = (await open(n.nodeId, n.credential)).node as NodeSocket;
    agent.hello(n.nodeId, null);
    await agent.next();
    const at = Date.now();
    // The minute keeps its peak: a later, higher count in the same minute is recorded, a lower one is not.
    const minuteStart = Math.floor(at / 60_000) * 60_000;
    const report = (count: number, when: number) => agent.send({ type: 'sessions', at: when, counts: [{ profile_id: n.profileId, protocol: 'openvpn', count }], peers: [], clients: [] });
    report(1, minuteStart);
    report(3, minuteStart + 1);
    report(2, minuteStart + 2);
    agent.send({ type: 'openvpn_event', event: 'connect', at, common_name: cert.common_name, profile_id: n.profileId, ip_four: '10.9.9.2', ip_six: 'fd09::2', originating_ip: '192.0.2.44' });
    agent.send({
      type: 'openvpn_event',
      event: 'disconnect',
      at: at + 5000,
      common_name: cert.common_name,
      profile_id: n.profileId,
      ip_four: '10.9.9.2',
      ip_six: 'fd09::2',
      originating_ip: '192.0.2.44',
      rx: 1000,
      tx: 2000,
    });
    agent.send({ type: 'need_snapshot', reason: 'marker' });
    // Frames are handled in order, so the snapshot answering the marker comes after all of them.
    expect(await agent.next()).toMatchObject({ type: 'snapshot' });

    const stats = await db.kysely.selectFrom('session_stats').selectAll().where('node_id', '=', n.nodeId).execute();
    expect(stats).toEqual([{ node_id: n.nodeId, profile_id: n.profileId, vpn_proto: 'openvpn', minute: minuteStart, sessions: 3 }]);
    // The object handled the frames in order (the snapshot came last), but its last write can
    // still be landing when the test reads: poll briefly.
    const read = () => db.kysely.selectFrom('connection_log').selectAll().where('connection_id', '=', cert.common_name).execute();
    let log = await read();
    for (let i = 0; i < 100 && log[0]?.disconnected_at === null; i++) {
      await new Promise((r) => setTimeout(r, 50));
      log = await read();
    }
    expect(log).toMatchObject([
      { user_id: user, node_id: n.nodeId, vpn_proto: 'openvpn', ip_four: '10.9.9.2', originating_ip: '192.0.2.44', connected_at: at, disconnected_at: at + 5000, bytes_in: 1000, bytes_out: 2000 },
    ]);
    agent.ws.close();
  });
});

describe('node status for the admin views', () => {
  it('keeps a report that arrived inside the write throttle and writes it with the next write', async () => {
    const n = await enrolledNode();
    const agent = (await open(n.nodeId, n.credential)).node as NodeSocket;
    agent.hello(n.nodeId, null);
    await agent.next(); // the snapshot; the hello wrote the status row
    // Within the throttle window after the hello's write: held back, not dropped.
    agent.send({ type: 'sessions', at: Date.now(), counts: [{ profile_id: n.profileId, protocol: 'wireguard', count: 4 }], peers: [], clients: [] });
    // A new applied revision is written at once, carrying the held-back report with it.
    const pushed = n.channel.push([{ op: 'peer_add', peer: await peer(n.profileId, 3) }], 2000);
    expect(await agent.next()).toMatchObject({ type: 'delta', revision: 1 });
    agent.send({ type: 'ack', revision: 1 });
    expect((await pushed).acked).toBe(true);
    const db = await dbFor('d1');
    let row = await db.kysely.selectFrom('node_status').selectAll().where('node_id', '=', n.nodeId).executeTakeFirst();
    for (let i = 0; i < 40 && row?.applied_revision !== 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
      row = await db.kysely.selectFrom('node_status').selectAll().where('node_id', '=', n.nodeId).executeTakeFirst();
    }
    expect(row?.applied_revision).toBe(1);
    expect(JSON.parse(row?.sessions_json ?? 'null')).toMatchObject({ counts: [{ profile_id: n.profileId, protocol: 'wireguard', count: 4 }] });
    // The admin JSON shows the same status.
    const view = await (await n.admin.api('GET', `/admin/api/nodes/${n.nodeId}`)).json<{ status: { applied_revision: number; sessions: unknown } | null }>();
    expect(view.status).toMatchObject({ applied_revision: 1, sessions: expect.anything() });
  });
});
