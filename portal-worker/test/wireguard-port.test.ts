import { nodeWireguardPort, type HubMessage } from '@edgeport/schema';
import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, unique, type Browser, type Driver } from './helpers.ts';
import { csrfOf, ownRanges } from './admin-nodes-helpers.ts';
import { wgPublicKey } from './connect-helpers.ts';
import { apiCall, appTokens } from './oauth-helpers.ts';
import { TestNode, enrollNode } from './test-node.ts';

// A node listens on one WireGuard port, shared by its WireGuard profiles (upstream eduVPN's one
// port per node): the portal refuses settings that break this, and placement keeps a node an
// older database left with two ports from handing out the one nobody listens on.

const WG = 'application/x-wireguard-profile';

interface Problem {
  code: string;
  errors?: { path: string; message: string }[];
}

const random = (n: number) => Math.floor(Math.random() * n);

/**
 * A profile made through the JSON API on fresh random ranges (10.m.n.0/27 and fd57:…; picked
 * again on the rare overlap with another test file's). `openvpn` adds OpenVPN on a second range.
 */
async function makeProfile(admin: Browser, id: string, wireguard: { port: number } | null, openvpn = false): Promise<{ range_four: string; range_six: string }> {
  let refusal = '';
  for (let attempt = 0; attempt < 8; attempt++) {
    const [m, n, k] = [random(250), random(256), random(4) * 32];
    const wg = { range_four: `10.${m}.${n}.${k}/27`, range_six: `fd57:${m.toString(16)}:${n.toString(16)}:${k.toString(16)}::/64` };
    const ovpn = { range_four: `10.${m}.${n}.${(k + 128) % 256}/27`, range_six: `fd57:${m.toString(16)}:${n.toString(16)}:${(k + 128).toString(16)}::/64`, udp_ports: [1194], tcp_ports: [] };
    const body = {
      id,
      display_name: id,
      host_name: 'vpn.example.org',
      wireguard: wireguard ? { ...wg, port: wireguard.port } : null,
      openvpn: openvpn ? ovpn : null,
      preferred_proto: wireguard ? 'wireguard' : 'openvpn',
    };
    const r = await admin.api('POST', '/admin/api/profiles', body);
    if (r.status === 201) return wg;
    refusal = await r.text();
    if (!refusal.includes('overlaps')) throw new Error(`profile: ${r.status} ${refusal}`);
  }
  throw new Error(`profile: no free range after 8 attempts: ${refusal}`);
}

async function problem(r: Response): Promise<Problem> {
  expect(r.status).toBe(400);
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  const p = await r.json<Problem>();
  expect(p.code).toBe('validation_failed');
  return p;
}

const html = (text: string) => text.replaceAll('"', '&quot;');

describe.each(DRIVERS)('one WireGuard port per node on %s', (driver: Driver) => {
  it('refuses a node serving WireGuard profiles with different ports, on the API and the page, and accepts equal ports', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const base = unique('wp');
    const [a, b, c] = [`${base}a`, `${base}b`, `${base}c`];
    await makeProfile(admin, a, { port: 51820 });
    await makeProfile(admin, b, { port: 51821 });
    await makeProfile(admin, c, { port: 51820 });
    const db = await dbFor(driver);
    const message = `WireGuard port 51821 of profile "${b}" differs from port 51820 of profile "${a}" on this node: a node listens on one WireGuard port`;

    const nodeId = unique('wn');
    const node = { id: nodeId, name: nodeId, host_name: `${nodeId}.example.org` };
    const refused = await problem(await admin.api('POST', '/admin/api/nodes', { ...node, profiles: [{ profile_id: a }, { profile_id: b }] }));
    expect(refused.errors).toEqual([{ path: 'profiles.1.profile_id', message }]);
    expect(await db.kysely.selectFrom('nodes').select('id').where('id', '=', nodeId).execute()).toEqual([]);

    // Equal ports are one listen port: accepted.
    const created = await admin.api('POST', '/admin/api/nodes', { ...node, profiles: [{ profile_id: a }, { profile_id: c }] });
    expect(created.status, await created.clone().text()).toBe(201);

    const update = await problem(await admin.api('PUT', `/admin/api/nodes/${nodeId}`, { ...node, profiles: [{ profile_id: a }, { profile_id: c }, { profile_id: b }] }));
    expect(update.errors).toEqual([{ path: 'profiles.2.profile_id', message }]);
    const served = async () => (await db.kysely.selectFrom('node_profiles').select('profile_id').where('node_id', '=', nodeId).orderBy('profile_id').execute()).map((r) => r.profile_id);
    expect(await served()).toEqual([a, c]);

    // The node form says the same at the profile's own fieldset name, and keeps what was typed.
    const token = csrfOf(await (await admin.fetch(`/admin/nodes/${nodeId}`)).text());
    const page = await admin.form(`/admin/nodes/${nodeId}`, { _csrf: token, name: nodeId, host_name: `${nodeId}.example.org`, [`serve.${a}`]: 'on', [`serve.${b}`]: 'on', [`serve.${c}`]: 'on' });
    expect(page.status).toBe(400);
    const text = await page.text();
    expect(text).toContain('role="alert"');
    expect(text).toContain(`<code>profiles.${b}.profile_id</code> ${html(message)}`);
    expect(text).toMatch(new RegExp(`name="serve\\.${b}" checked`));
    expect(await served()).toEqual([a, c]);
  });

  it('refuses a WireGuard port change or enabling WireGuard that would give a node two ports, on the API and the page', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const base = unique('wq');
    const [a, b, o] = [`${base}a`, `${base}b`, `${base}o`];
    await makeProfile(admin, a, { port: 51820 });
    const bRange = await makeProfile(admin, b, { port: 51820 });
    await makeProfile(admin, o, null, true);
    const nodeId = unique('wn');
    const created = await admin.api('POST', '/admin/api/nodes', { id: nodeId, name: nodeId, host_name: `${nodeId}.example.org`, profiles: [{ profile_id: a }, { profile_id: b }, { profile_id: o }] });
    expect(created.status, await created.clone().text()).toBe(201);
    const message = (port: number) => `node "${nodeId}" also serves profile "${a}" on WireGuard port ${port}: a node listens on one WireGuard port`;

    const current = await (await admin.api('GET', `/admin/api/profiles/${b}`)).json<Record<string, unknown>>();
    const moved = await problem(await admin.api('PUT', `/admin/api/profiles/${b}`, { ...current, wireguard: { ...bRange, port: 51821 } }));
    expect(moved.errors).toEqual([{ path: 'wireguard.port', message: message(51820) }]);
    expect(await (await admin.api('GET', `/admin/api/profiles/${b}`)).json()).toMatchObject({ wireguard: { port: 51820 } });

    // Enabling WireGuard on an OpenVPN-only profile of the node: its port must be the node's too.
    const openvpnOnly = await (await admin.api('GET', `/admin/api/profiles/${o}`)).json<Record<string, unknown>>();
    const [m, n] = [random(250), random(256)];
    const enable = { ...openvpnOnly, wireguard: { range_four: `10.${m}.${n}.64/27`, range_six: `fd57:${m.toString(16)}:${n.toString(16)}:40::/64`, port: 51822 } };
    const enabled = await admin.api('PUT', `/admin/api/profiles/${o}`, enable);
    const body = await enabled.clone().text();
    // (A rare overlap with another file's random range would add its own error; this one must be there.)
    expect(enabled.status, body).toBe(400);
    expect((await enabled.json<Problem>()).errors).toContainEqual({ path: 'wireguard.port', message: message(51820) });
    expect(await (await admin.api('GET', `/admin/api/profiles/${o}`)).json()).toMatchObject({ wireguard: null });

    // The profile form shows it with the form as typed.
    const token = csrfOf(await (await admin.fetch(`/admin/profiles/${b}`)).text());
    const page = await admin.form(`/admin/profiles/${b}`, {
      _csrf: token,
      display_name: b,
      host_name: 'vpn.example.org',
      wg_enabled: 'on',
      wg_range_four: bRange.range_four,
      wg_range_six: bRange.range_six,
      wg_port: '51821',
      preferred_proto: 'wireguard',
    });
    expect(page.status).toBe(400);
    const text = await page.text();
    expect(text).toContain(`<code>wireguard.port</code> ${html(message(51820))}`);
    expect(text).toContain('value="51821"');
    expect(text).toContain('A node listens on one WireGuard port: the WireGuard profiles one node serves must all use the same.');

    // The same port, or another edit, is fine.
    const renamed = await admin.api('PUT', `/admin/api/profiles/${b}`, { ...current, display_name: 'Renamed' });
    expect(renamed.status, await renamed.clone().text()).toBe(200);
  });

  it('still saves an edit that keeps the port, on a node an older database left with two ports', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const base = unique('wr');
    const [a, b] = [`${base}a`, `${base}b`];
    await makeProfile(admin, a, { port: 51820 });
    await makeProfile(admin, b, { port: 51821 });
    const nodeId = unique('wn');
    expect((await admin.api('POST', '/admin/api/nodes', { id: nodeId, name: nodeId, host_name: `${nodeId}.example.org`, profiles: [{ profile_id: a }] })).status).toBe(201);
    // What a database written before the rule may hold: both ports on one node.
    const db = await dbFor(driver);
    await db.kysely
      .insertInto('node_profiles')
      .values({ node_id: nodeId, profile_id: b, host_name: null, wg_range_four: null, wg_range_six: null, ovpn_range_four: null, ovpn_range_six: null })
      .execute();

    for (const id of [a, b]) {
      const current = await (await admin.api('GET', `/admin/api/profiles/${id}`)).json<Record<string, unknown>>();
      const r = await admin.api('PUT', `/admin/api/profiles/${id}`, { ...current, display_name: `Renamed ${id}` });
      expect(r.status, await r.clone().text()).toBe(200);
    }
    // Moving b onto the node's port is the fix, and is accepted.
    const current = await (await admin.api('GET', `/admin/api/profiles/${b}`)).json<{ wireguard: Record<string, unknown> }>();
    const fixed = await admin.api('PUT', `/admin/api/profiles/${b}`, { ...current, wireguard: { ...current.wireguard, port: 51820 } });
    expect(fixed.status, await fixed.clone().text()).toBe(200);
  });
});

describe('placement on a node whose WireGuard profiles disagree on the port (an older database)', () => {
  // The test nodes connect to their NodeChannel objects, which write through D1.
  const driver = 'd1';

  /** A node with a WireGuard key (placement needs one), not yet enrolled. */
  async function nodeWith(admin: Browser, profiles: Record<string, unknown>[]): Promise<string> {
    const nodeId = unique('wn');
    const r = await admin.api('POST', '/admin/api/nodes', { id: nodeId, name: nodeId, host_name: `${nodeId}.vpn.example.org`, wg_public_key: await wgPublicKey(), profiles });
    expect(r.status, await r.clone().text()).toBe(201);
    return nodeId;
  }

  it('places no client of the other profile there, so nobody gets an Endpoint port the node does not listen on', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const base = unique('wz');
    const [a, b] = [`${base}a`, `${base}b`];
    await makeProfile(admin, a, { port: 51820 });
    await makeProfile(admin, b, { port: 51821 });
    const db = await dbFor(driver);
    const first = await nodeWith(admin, [{ profile_id: a }]);
    await db.kysely
      .insertInto('node_profiles')
      .values({ node_id: first, profile_id: b, host_name: null, wg_range_four: null, wg_range_six: null, ovpn_range_four: null, ovpn_range_six: null })
      .execute();
    const agents = [await TestNode.start(first, await enrollNode(admin, first, driver), driver)];
    try {
      // The node is told both profiles; by the shared rule it listens on a's port (lowest id).
      const snapshot = agents[0]?.messages.find((m): m is Extract<HubMessage, { type: 'snapshot' }> => m.type === 'snapshot');
      const wg = snapshot?.config.profiles.flatMap((p) => (p.wireguard ? [{ id: p.id, port: p.wireguard.port }] : []));
      expect(wg?.map((p) => p.id).sort()).toEqual([a, b]);
      expect(nodeWireguardPort(wg ?? [])).toEqual({ profile_id: a, port: 51820 });

      const { browser } = await signedIn(driver);
      const tokens = await appTokens(browser);
      const connect = async (profile: string, key: string) => apiCall(browser, tokens.access_token, 'POST', '/connect', { profile_id: profile, public_key: key }, { accept: WG });
      const bodyOf = async (r: Response) => new TextDecoder().decode(await r.arrayBuffer());

      // a's clients get the port the node listens on.
      const ok = await connect(a, await wgPublicKey());
      expect(ok.status).toBe(200);
      expect(await bodyOf(ok)).toContain('Endpoint = vpn.example.org:51820');

      // b's would get 51821, which nobody listens on: no node is left, so 503 and nothing written.
      const key = await wgPublicKey();
      const refused = await connect(b, key);
      expect(refused.status, await refused.clone().text()).toBe(503);
      expect(await db.kysely.selectFrom('wg_peers').select('node_id').where('public_key', '=', key).execute()).toEqual([]);

      // A node that listens on b's port serves b as before.
      const own = ownRanges();
      const second = await nodeWith(admin, [{ profile_id: b, wireguard: own.wireguard }]);
      agents.push(await TestNode.start(second, await enrollNode(admin, second, driver), driver));
      const placed = await connect(b, key);
      expect(placed.status).toBe(200);
      expect(await bodyOf(placed)).toContain(`Endpoint = ${second}.vpn.example.org:51821`);
      expect(await db.kysely.selectFrom('wg_peers').select('node_id').where('public_key', '=', key).execute()).toEqual([{ node_id: second }]);
    } finally {
      for (const agent of agents) agent.close();
    }
  });
});
