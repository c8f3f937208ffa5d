import { describe, expect, it } from 'vitest';
import type { HubMessage } from '@edgeport/schema';
import { dbFor, signedIn } from './helpers.ts';
import { apiCall, appTokens } from './oauth-helpers.ts';
import { provision, wgPublicKey } from './connect-helpers.ts';
import { type NodeSocket, TestNode, enrollNode, open } from './test-node.ts';

const WG = { accept: 'application/x-wireguard-profile' };

function deltas(messages: HubMessage[]) {
  return messages.flatMap((m) => (m.type === 'delta' ? m.changes : []));
}

/** A node that is connected and says hello but never acknowledges anything. */
async function silentNode(nodeId: string, credential: string): Promise<NodeSocket> {
  const { node } = await open(nodeId, credential);
  if (!node) throw new Error('could not connect');
  node.hello(nodeId, null);
  await node.next();
  return node;
}

/** A second node for the same profile, with ranges of its own. */
async function secondNode(p: Awaited<ReturnType<typeof provision>>, n: number) {
  const nodeId = `${p.nodeId}b`;
  const r = await p.admin.api('POST', '/admin/api/nodes', {
    id: nodeId,
    name: nodeId,
    host_name: `${nodeId}.example.org`,
    wg_public_key: await wgPublicKey(),
    profiles: [
      {
        profile_id: p.profileId,
        wireguard: { range_four: `10.251.${n}.0/24`, range_six: `fd51:${n.toString(16)}::/64` },
        openvpn: { range_four: `10.252.${n}.0/24`, range_six: `fd52:${n.toString(16)}::/64` },
      },
    ],
  });
  if (r.status !== 201) throw new Error(`node: ${await r.text()}`);
  return { nodeId, credential: await enrollNode(p.admin, nodeId) };
}

describe('connect through the node channel', () => {
  it('answers only after the node acknowledged the new peer, and disconnect tells the node', async () => {
    const p = await provision('d1');
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    const r = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, WG);
    expect(r.status).toBe(200);
    // The ack is what released the response, so the node had the peer before the app had its config.
    expect(deltas(p.agent?.messages ?? [])).toContainEqual({ op: 'peer_add', peer: expect.objectContaining({ public_key: key, profile_id: p.profileId }) });

    expect((await apiCall(browser, tokens.access_token, 'POST', '/disconnect')).status).toBe(204);
    await new Promise((res) => setTimeout(res, 50));
    expect(deltas(p.agent?.messages ?? [])).toContainEqual({ op: 'peer_remove', public_key: key });
  });

  it('skips a node without a live channel, and answers 503 when none is up', async () => {
    const p = await provision('d1');
    const n = Math.floor(Math.random() * 200) + 1;
    const b = await secondNode(p, n);
    const other = await TestNode.start(b.nodeId, b.credential);
    p.agent?.close();
    await new Promise((res) => setTimeout(res, 50));
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    for (let i = 0; i < 4; i++) {
      const r = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: await wgPublicKey() }, WG);
      expect(r.status).toBe(200);
      expect(new TextDecoder().decode(await r.arrayBuffer())).toContain(`Address = 10.251.${n}.2/24`);
    }
    other.close();
    await new Promise((res) => setTimeout(res, 50));
    const none = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: await wgPublicKey() }, WG);
    expect(none.status).toBe(503);
  });

  it('gives up on a node that does not acknowledge in time, releases the address, and uses another node', async () => {
    const vars = { NODE_ACK_TIMEOUT_MS: '300' };
    const p = await provision('d1', {}, {}, false);
    const credential = await enrollNode(p.admin, p.nodeId);
    const silent = await silentNode(p.nodeId, credential);
    const { browser } = await signedIn('d1', { vars });
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    const r = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, WG);
    expect(r.status).toBe(503);
    const db = await dbFor('d1');
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('public_key', '=', key).execute()).toEqual([]);
    // The silent node was told to add the peer, then to remove it again.
    const seen: HubMessage[] = [];
    for (let i = 0; i < 2; i++) seen.push(await silent.next());
    expect(seen.flatMap((m) => (m.type === 'delta' ? m.changes.map((c) => c.op) : []))).toEqual(['peer_add', 'peer_remove']);

    // With a healthy second node, the same connect lands there.
    const n = Math.floor(Math.random() * 200) + 1;
    const b = await secondNode(p, n);
    const healthy = await TestNode.start(b.nodeId, b.credential);
    const again = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, WG);
    expect(again.status).toBe(200);
    expect(deltas(healthy.messages)).toContainEqual({ op: 'peer_add', peer: expect.objectContaining({ public_key: key }) });
    silent.ws.close();
    healthy.close();
  });

  it("removes a disabled user's peers from the node, and resyncs nodes after a profile edit", async () => {
    const p = await provision('d1');
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    expect((await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, WG)).status).toBe(200);
    expect((await p.admin.api('POST', `/admin/api/users/${id}/disable`)).status).toBe(200);
    await new Promise((res) => setTimeout(res, 50));
    expect(deltas(p.agent?.messages ?? [])).toContainEqual({ op: 'peer_remove', public_key: key });

    const before = (p.agent?.messages ?? []).filter((m) => m.type === 'snapshot').length;
    const profile = await (await p.admin.api('GET', `/admin/api/profiles/${p.profileId}`)).json<Record<string, unknown>>();
    expect((await p.admin.api('PUT', `/admin/api/profiles/${p.profileId}`, { ...profile, display_name: 'Renamed' })).status).toBe(200);
    await new Promise((res) => setTimeout(res, 100));
    const snapshots = (p.agent?.messages ?? []).filter((m) => m.type === 'snapshot');
    expect(snapshots.length).toBe(before + 1);
    const last = snapshots.at(-1);
    expect(last?.type === 'snapshot' && last.config.profiles[0]?.display_name).toBe('Renamed');
    p.agent?.close();
  });
});

describe('connection log', () => {
  it('records who had a WireGuard address from connect to disconnect, and forgets a config no node took', async () => {
    const { whoHad } = await import('../src/store/connection-log.ts');
    const p = await provision('d1');
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    const r = await apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, WG);
    const ip = new TextDecoder().decode(await r.arrayBuffer()).match(/^Address = ([\d.]+)\//m)?.[1] as string;
    const db = await dbFor('d1');
    const during = Date.now();
    expect((await whoHad(db, ip, during)).map((row) => [row.user_id, row.connection_id, row.disconnected_at])).toEqual([[id, key, null]]);
    await new Promise((res) => setTimeout(res, 5));
    expect((await apiCall(browser, tokens.access_token, 'POST', '/disconnect')).status).toBe(204);
    const after = Date.now() + 1;
    const [row] = await whoHad(db, ip, during);
    expect(row?.disconnected_at).toBeGreaterThanOrEqual(during);
    expect(await whoHad(db, ip, after)).toEqual([]);
    // The IPv6 address finds the same row.
    expect((await whoHad(db, row?.ip_six as string, during)).map((x) => x.connection_id)).toEqual([key]);
  });
});
