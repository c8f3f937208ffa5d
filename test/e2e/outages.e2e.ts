/**
 * The failures Edgeport must survive (issue #6, scenarios 3, 6, 7 and the node-link faults), each
 * judged on real traffic through real tunnels: the portal gone (and nodes rebooting meanwhile),
 * a lossy and slow node link, the database unreachable (cut between a transaction's INSERT and
 * its COMMIT), and two portals on one database with the first one stopped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until, type AgentProcess, type LogLine } from '../support/agent-process.ts';
import { HttpBrowser } from '../support/browser.ts';
import { wgKeyPair } from '../support/vpn-tools.ts';
import { figure } from './figures.ts';
import { readyWorld, sleep, TunnelKit, type OvpnTunnel, type WgTunnel } from './tunnel-kit.ts';
import { pings } from './vpn-client.ts';
import { USER_PASSWORD, WG_ACCEPT, type World, type NodeHandle } from './world.ts';

let w: World;
let kit: TunnelKit;

beforeAll(async () => {
  ({ w, kit } = await readyWorld('outages'));
}, 180_000);

afterAll(async () => {
  await kit?.stopAll();
  await w?.close();
}, 60_000);

const at = (l: LogLine) => Date.parse(String(l.time));
const agentOf = (n: NodeHandle) => n.agent as AgentProcess;
const metric = async (n: NodeHandle, name: string) => (await agentOf(n).metrics()).get(name);
// Not connection_log: OpenVPN clients of earlier scenarios may log (re)connections at any time.
const configCounts = async () => Object.fromEntries(await Promise.all(['wg_peers', 'certificates', 'oauth_authorizations', 'audit_log'].map(async (t) => [t, await w.count(t)] as const)));
const rowsFor = async (sqlText: string, key: string) => Number(((await w.sql.query(sqlText, [key]))[0] as { n: number }[])[0]?.n);

/** The agent's applied revision equals what its NodeChannel holds (node_status.wanted_revision, written at every hello). */
async function resynced(n: NodeHandle, since: number): Promise<number> {
  return until(`${n.id} applied the channel's latest revision`, 60_000, async () => {
    const [status, applied] = await Promise.all([w.nodeStatus(n), metric(n, 'edgeport_agent_applied_revision')]);
    const connected = agentOf(n).lines.some((l) => l.msg === 'connected to the portal' && at(l) >= since);
    return connected && status?.wanted_revision !== null && status?.wanted_revision === applied && Date.now();
  });
}

let erinWg: WgTunnel;
let erinOvpn: OvpnTunnel;
let erinWgToken = '';

describe('scenario 3: the portal down', () => {
  it('tunnels keep passing traffic; nodes rebooted meanwhile come back from disk; on return the agents resync and nothing made before is lost', async () => {
    await w.user('erin');
    erinWgToken = await w.token('erin');
    erinWg = await kit.wireguard('3 portal down', erinWgToken, 'erin');
    erinOvpn = await kit.openvpn('3 portal down', await w.token('erin'), 'erin');
    const rowsBefore = await configCounts();
    const revisions = new Map(await Promise.all(w.nodes.map(async (n) => [n.id, await metric(n, 'edgeport_agent_applied_revision')] as const)));

    const tDown = Date.now();
    await w.portalA.stop();
    await sleep(4_000);
    figure('3 portal down', 'WireGuard: longest ping gap in the 4 s after the portal stopped', erinWg.pinger.longestGap(tDown, Date.now()));
    figure('3 portal down', 'OpenVPN: longest ping gap in the 4 s after the portal stopped', erinOvpn.pinger.longestGap(tDown, Date.now()));
    expect(erinWg.pinger.longestGap(tDown, Date.now())).toBeLessThan(1_000);
    expect(erinOvpn.pinger.longestGap(tDown, Date.now())).toBeLessThan(1_000);

    // Both nodes crash (agent, wireguard-go, OpenVPN servers) and start again without the portal.
    for (const n of w.nodes) await w.crashNode(n);
    const tRestart = Date.now();
    for (const n of w.nodes) w.startAgent(n);
    for (const n of w.nodes) {
      const applied = await agentOf(n).line('config applied', 30_000, (l) => l.why === 'startup');
      expect(applied.revision).toBe(revisions.get(n.id));
      await agentOf(n).line('openvpn: server started', 30_000);
      figure('3 portal down', `${n.id}: agent start → saved config applied (no portal)`, at(applied) - tRestart);
    }
    // WireGuard: the client re-handshakes on its own (after ~15 s without answers, as WireGuard does).
    const wgBack = await until('WireGuard traffic after the node came back from disk', 45_000, () => erinWg.pinger.since(tRestart + 200)[0]);
    figure('3 portal down', 'WireGuard: node restart from disk → traffic again (client re-handshake)', wgBack - tRestart, 'no portal');
    // OpenVPN: the app reconnects with the file it has; the node admits it from its local copy.
    const t0 = Date.now();
    const again = await kit.openvpnClient((await w.client()).netns, 'erin again', erinOvpn.config);
    const pinger = kit.pinger(again.netns, again.gateway);
    const ovBack = await until('OpenVPN traffic with the same file, portal still down', 20_000, () => pinger.replies[0]);
    figure('3 portal down', "OpenVPN: reconnect with the same file → first ping (admitted from the node's copy)", ovBack - t0, 'no portal');

    const tUp = Date.now();
    await w.portalA.start();
    figure('3 portal down', 'portal start (same storage and port)', Date.now() - tUp);
    // Side by side: one node's figure must not include the wait for the other.
    await Promise.all(
      w.nodes.map(async (n) => {
        // The agents have been failing since the outage began: the next attempt may be up to 32 s away.
        const connected = await agentOf(n).line('connected to the portal', 90_000, (l) => at(l) >= tUp);
        const synced = await resynced(n, tUp);
        figure('3 portal down', `${n.id}: portal back → agent connected`, at(connected) - tUp, 'agent backoff was growing during the outage');
        figure('3 portal down', `${n.id}: portal back → agent resynced (applied = channel revision)`, synced - tUp);
        expect(await metric(n, 'edgeport_agent_applied_revision')).toBe(revisions.get(n.id));
      }),
    );
    expect(await configCounts()).toEqual(rowsBefore);
    expect(await w.nodePeers(erinWg.node)).toContain(erinWg.keys.publicKey);
    // And the returned portal serves new connects end to end.
    await kit.wireguard('3 portal down', await w.token('erin'), 'erin after the portal returned');
  });
});

describe('node link faults (fault proxy between agent and portal)', () => {
  it('reconnect attempts are spaced by full-jitter backoff; under latency, stalls and resets the agent resyncs to the latest revision', async () => {
    const node = erinWg.node;
    const agent = agentOf(node);
    // Established first (the hub spoke, or 5 s of quiet): only then does a failure start the backoff at 1 s again.
    await until(`${node.id} connected and established`, 40_000, async () => {
      const last = agent.lines.filter((l) => l.msg === 'connected to the portal').at(-1);
      return (await metric(node, 'edgeport_agent_connected')) === 1 && last && Date.now() - at(last) > 6_000;
    });
    const reconnectsBefore = (await metric(node, 'edgeport_agent_reconnects_total')) ?? 0;
    const from = agent.lines.length;
    node.linkA.set({ refuse: true });
    node.linkA.dropAll();
    try {
      await linkFaults(node, agent, from, Date.now(), reconnectsBefore);
    } finally {
      node.linkA.heal();
    }
  });
});

/** The node-link scenario once the link is cut (the caller heals it whatever happens). */
async function linkFaults(node: NodeHandle, agent: AgentProcess, from: number, tCut: number, reconnectsBefore: number): Promise<void> {
  // A change the node must learn: the app disconnects; the removal waits in the node's channel.
  const r = await fetch(`${w.portalA.origin}/api/v3/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${erinWgToken}` } });
  expect(r.status).toBe(204);

  const ends = await until('four failed reconnects', 40_000, () => {
    const e = agent.lines.slice(from).filter((l) => l.msg === 'portal connection ended');
    return e.length >= 5 && e;
  });
  const attempts = agent.lines.slice(from).filter((l) => l.msg === 'connecting to the portal');
  // ends[0] is the cut connection; each later end follows one refused attempt.
  expect(ends.slice(0, 4).map((e) => e.retry_ceiling_ms)).toEqual([1000, 2000, 4000, 8000]);
  const spacing: string[] = [];
  for (let i = 0; i < 4; i++) {
    const end = ends[i] as LogLine;
    const next = attempts.find((a) => at(a) >= at(end)) as LogLine;
    const waited = at(next) - at(end);
    spacing.push(`${waited}/${end.retry_in_ms}`);
    expect(end.retry_in_ms as number).toBeLessThanOrEqual(end.retry_ceiling_ms as number);
    // The attempt comes when the drawn delay is over: not early, and not much later.
    expect(waited).toBeGreaterThanOrEqual((end.retry_in_ms as number) - 20);
    expect(waited).toBeLessThanOrEqual((end.retry_in_ms as number) + 1_000);
  }
  // Full jitter: the delays are drawn, not the ceilings themselves.
  expect(new Set(ends.slice(0, 4).map((e) => (e.retry_in_ms as number) / (e.retry_ceiling_ms as number))).size).toBe(4);
  figure(
    'link faults',
    'refused link: waited/drawn delay for ceilings 1, 2, 4, 8 s',
    ends.slice(0, 4).reduce((a, e) => a + (e.retry_in_ms as number), 0),
    spacing.join(', '),
  );
  // The node is still serving the removed peer: without the link it cannot know yet.
  expect(erinWg.pinger.since(Date.now() - 1_000).length).toBeGreaterThan(0);

  node.linkA.set({ refuse: false, latencyMs: 150, jitterMs: 100, stallRate: 0.1, stallMs: 400, resetRate: 0.03 });
  const tHeal = Date.now();
  const gone = await until('the peer removed during the cut leaves the node', 90_000, async () => !(await w.nodePeers(node)).includes(erinWg.keys.publicKey) && Date.now());
  const synced = await resynced(node, tHeal);
  const back = agent.lines.find((l) => l.msg === 'connected to the portal' && at(l) >= tHeal) as LogLine;
  figure('link faults', 'link back → next attempt connected (the backoff delay then running)', at(back) - tHeal);
  figure('link faults', 'connected over the degraded link → missed removal applied', gone - at(back));
  const stats = node.linkA.stats;
  const reconnects = ((await metric(node, 'edgeport_agent_reconnects_total')) ?? 0) - reconnectsBefore;
  figure('link faults', 'link back with 150+0..100 ms latency, 10% stalls of 400 ms, 3% resets → missed removal applied', gone - tHeal, `cut lasted ${tHeal - tCut} ms`);
  figure('link faults', 'same → agent resynced (applied = channel revision)', synced - tHeal, `${reconnects} reconnects, proxy: ${stats.resets} resets, ${stats.stalls} stalls`);
  await TunnelKit.silent('removed WireGuard peer', erinWg.pinger, 1_500, 10_000);

  // Still degraded: node edits (each a new revision and a full snapshot) must each arrive.
  const view = (await w.adminOk('GET', `/admin/api/nodes/${node.id}`, undefined)) as Record<string, unknown>;
  const body = { name: view.name, host_name: view.host_name, wg_public_key: view.wg_public_key, profiles: view.profiles };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const target = ((await metric(node, 'edgeport_agent_applied_revision')) ?? 0) + 1;
    const t0 = Date.now();
    await w.adminOk('PUT', `/admin/api/nodes/${node.id}`, body);
    times.push(
      (await until(`${node.id} at revision ${target} over the degraded link`, 90_000, async () => ((await metric(node, 'edgeport_agent_applied_revision')) ?? -1) >= target && Date.now())) - t0,
    );
  }
  const after = node.linkA.stats;
  const more = ((await metric(node, 'edgeport_agent_reconnects_total')) ?? 0) - reconnectsBefore - reconnects;
  figure(
    'link faults',
    'node edit → snapshot applied over the degraded link (median of 5)',
    [...times].sort((a, b) => a - b)[2] as number,
    `all ${times.join(', ')} ms; ${more} reconnects; proxy: ${after.resets} resets, ${after.stalls} stalls in total`,
  );
}

describe('scenario 6: the database down', () => {
  it('/connect answers 503 with Retry-After, a transaction cut before its COMMIT leaves nothing, tunnels carry on, the portal recovers by itself', async () => {
    await w.user('frank');
    const [token, other] = [await w.token('frank'), await w.token('frank')];
    const tunnel = await kit.wireguard('6 database down', token, 'frank');
    const before = await configCounts();

    // The connect's INSERTs reach MariaDB inside a transaction; its COMMIT never does.
    w.dbLink.set({ tripwire: { armedBy: /insert into `wg_peers`/i, cutAt: /"query":"COMMIT"/ } });
    try {
      await databaseDown(token, other, tunnel, before);
    } finally {
      w.dbLink.heal();
    }
  });
});

/** Scenario 6 after the tripwire is armed (the caller heals the link whatever happens). */
async function databaseDown(token: string, other: string, tunnel: WgTunnel, before: Record<string, number>): Promise<void> {
  const doomed = (await wgKeyPair()).publicKey;
  const tCut = Date.now();
  const cut = await w.connect(other, WG_ACCEPT, doomed);
  expect(w.dbLink.stats.trips).toBe(1);
  figure('6 database down', '/connect when the link dies before COMMIT → 503', cut.ms);
  expect(cut.status, cut.body).toBe(503);
  expect(cut.headers.get('retry-after')).toBe('5');
  expect(JSON.parse(cut.body)).toEqual({ error: expect.stringContaining('try again') });

  // Fully down now: every database-backed answer is a quick 503 in its audience's shape.
  const down = await w.connect(token, WG_ACCEPT, (await wgKeyPair()).publicKey);
  expect(down.status).toBe(503);
  figure('6 database down', '/connect with the database unreachable → 503', down.ms);
  const admin = await w.admin.fetch('/admin/api/users', { headers: { accept: 'application/json' } });
  expect(admin.status).toBe(503);
  expect(admin.headers.get('content-type')).toBe('application/problem+json');
  expect(await admin.json()).toMatchObject({ code: 'service_unavailable', status: 503 });

  await sleep(3_000);
  expect(tunnel.pinger.longestGap(tCut, Date.now())).toBeLessThan(1_000);
  const tHeal = Date.now();
  w.dbLink.heal();
  // psdb rolls back the abandoned transaction 3 s after its last statement (PlanetScale: 20 s).
  const back = await until('the portal answers again', 30_000, async () => {
    const r = await fetch(`${w.portalA.origin}/api/v3/info`, { headers: { authorization: `Bearer ${token}` } });
    return r.status === 200 && Date.now();
  });
  figure('6 database down', 'database back → first 200 (no restart)', back - tHeal);
  await sleep(Math.max(0, tCut + 4_000 - Date.now()));
  expect(await configCounts()).toEqual(before);
  // Neither half of the cut transaction is there: the peer nor its connection-log row.
  expect(await rowsFor('SELECT COUNT(*) AS n FROM wg_peers WHERE public_key = ?', doomed)).toBe(0);
  expect(await rowsFor('SELECT COUNT(*) AS n FROM connection_log WHERE connection_id = ?', doomed)).toBe(0);
  const ok = await kit.wireguard('6 database down', other, 'frank after the database returned');
  expect(await pings(ok.netns, ok.client.gateway)).toBe(true);
}

describe('scenario 7: two portals on one database', () => {
  it('stopping the portal the agents use moves them to the other; connects through it reach the nodes; nothing lived only in the first', async () => {
    const tunnel = await kit.wireguard('7 HA', await w.token('frank'), 'frank before the switch');
    const b = await w.startPortalB();
    // What portal A handed out is good at B: an app's token, an admin's session.
    expect((await fetch(`${b.origin}/api/v3/info`, { headers: { authorization: `Bearer ${await w.token('frank')}` } })).status).toBe(200);
    const adminAtB = new HttpBrowser(b.origin);
    for (const [k, v] of w.admin.cookies) adminAtB.cookies.set(k, v);
    expect((await adminAtB.fetch('/admin/api/users', { headers: { accept: 'application/json' } })).status).toBe(200);

    // The operator adds B to the agents' settings: a restart, which leaves the tunnels up.
    const tRestart = Date.now();
    for (const n of w.nodes) {
      await agentOf(n).stop();
      w.startAgent(n, { bothPortals: true });
    }
    for (const n of w.nodes) await resynced(n, tRestart);
    expect(tunnel.pinger.longestGap(tRestart, Date.now())).toBeLessThan(1_000);

    const tStop = Date.now();
    await w.portalA.stop();
    for (const n of w.nodes) {
      const moved = await agentOf(n).line('connected to the portal', 60_000, (l) => at(l) >= tStop && l.portal === n.linkB.origin);
      const snapshot = await agentOf(n).line('snapshot received', 30_000, (l) => at(l) >= at(moved));
      figure('7 HA', `${n.id}: portal A stopped → agent connected to B`, at(moved) - tStop);
      figure('7 HA', `${n.id}: portal A stopped → snapshot from B applied`, at(snapshot) - tStop, `B's channel starts at revision ${snapshot.revision}`);
      // B built the snapshot from the database: the peers placed through A are in it.
      const desired = JSON.parse(readFileSync(join(n.stateDir, 'desired.json'), 'utf8')) as { peers: { public_key: string }[] };
      if (n === tunnel.node) expect(desired.peers.map((p) => p.public_key)).toContain(tunnel.keys.publicKey);
    }
    expect(tunnel.pinger.longestGap(tStop, Date.now())).toBeLessThan(1_000);
    expect(await w.nodePeers(tunnel.node)).toContain(tunnel.keys.publicKey);

    // A new user made through B (A is gone): B's own admin API, the session from A.
    expect((await adminAtB.api('POST', '/admin/api/users', { id: 'grace', password: USER_PASSWORD, permissions: [] })).status).toBe(201);
    const viaB = await kit.wireguard('7 HA', await w.token('grace', b.origin), 'grace through portal B', b.origin);
    expect(await w.nodePeers(viaB.node)).toContain(viaB.keys.publicKey);
    await kit.openvpn('7 HA', await w.token('grace', b.origin), 'grace through portal B', b.origin);
  });
});
