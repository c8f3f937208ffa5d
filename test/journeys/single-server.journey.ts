import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/agent-process.ts';
import { recordJourney } from './support/figures.ts';
import { OVPN, QuickStartWorld, WG, freeRange } from './support/world.ts';

/**
 * README.md, word for word: on a fresh clone, `npm start` (nothing typed before it), sign in
 * with the password it printed, use the default profile from an app, add a profile on the
 * admin pages and tick it for node "local", connect an app to it. The app's side is what the
 * eduVPN apps do (OAuth with PKCE through the login and consent pages in Chromium, /info,
 * /connect, /disconnect); each config is brought up on the "device" (a client namespace) and
 * must carry a ping to the node's gateway address. The local node is this machine itself, as
 * with `npm start` anywhere; the device reaches it at the address given as EDGEPORT_HOST.
 */

const w = new QuickStartWorld();
let token = '';

beforeAll(async () => {
  await w.open('single', true);
}, 900_000);

afterAll(async () => {
  recordJourney('single server (npm start in a fresh copy)', w.times);
  await w.close();
}, 120_000);

describe('journey: a single server from the README', () => {
  it("npm start on a fresh copy installs, prints the administrator, the default profile, what to type into the app, and the local node's log", () => {
    const out = w.start.out;
    expect(out).toContain('installing dependencies (npm ci)');
    expect(out).toMatch(/user: {5}admin\n {2}password: \S{20}/);
    expect(out).toContain(`Profile "Default" (id default), served by node "local" at ${w.net.hostAddress}`);
    expect(out).toContain(`In the eduVPN or Let's Connect! app: "Add your own server", then type ${w.origin}/`);
    // Issue #11 item 4: the agent's own lines are shown, prefixed, not thrown away.
    expect(out).toMatch(/\[node local\] connected to the portal/);
    expect(out).toMatch(/\[node local\] wireguard: set key and listen port/);
  });

  it('an app connects to the default profile right away: WireGuard and OpenVPN configs each carry a ping to the node', async () => {
    token = await w.appToken();
    expect(await w.info(token)).toEqual(['default']);
    const keys = await QuickStartWorld.keys();
    const wg = await w.connect(token, { profile_id: 'default', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
    expect(wg.status, wg.body).toBe(200);
    expect(wg.body).toContain(`Endpoint = ${w.net.hostAddress}:51820`);
    const client = await w.wireguardUp(wg.body, keys.privateKey);
    expect(await w.pings(client.gateway)).toBe(true);
    w.mark('first ping (WireGuard)');
    expect(await w.localPeers()).toContain(keys.publicKey);

    const ovpn = await w.connect(token, { profile_id: 'default', prefer_tcp: 'no' }, OVPN);
    expect(ovpn.status, ovpn.body).toBe(200);
    expect(ovpn.body).toContain(`remote ${w.net.hostAddress} 1194 udp`);
    const vpn = await w.openvpnUp(ovpn.body, 'default');
    expect(await w.pings(vpn.gateway)).toBe(true);
    w.mark('first ping (OpenVPN)');
    // The OpenVPN connect replaced this authorization's WireGuard config: the node dropped the peer.
    await until('the replaced peer gone from the node', 10_000, async () => !(await w.localPeers()).includes(keys.publicKey));
  }, 180_000);

  it('the admin adds a profile on the pages and ticks it for node "local"; the app connects to it; /disconnect removes the peer from the node', async () => {
    const page = await w.admin.page();
    const wg4 = freeRange();
    await page.goto(`${w.origin}/admin/profiles/new`);
    const form = page.locator('form').filter({ has: page.locator('input[name=wg_range_four]') });
    await form.locator('input[name=id]').fill('staff');
    await form.locator('input[name=display_name]').fill('Staff');
    await form.locator('input[name=host_name]').fill(w.net.hostAddress);
    await form.locator('input[name=default_gateway]').uncheck();
    await form.locator('input[name=wg_enabled]').check();
    await form.locator('input[name=wg_range_four]').fill(wg4);
    await form.locator('input[name=wg_range_six]').fill('fd5e:1::/64');
    await form.locator('input[name=ovpn_enabled]').uncheck();
    await form.locator('button[type=submit]').click();
    await page.waitForURL(`${w.origin}/admin/profiles/staff`, { timeout: 10_000 }).catch(async () => {
      throw new Error(`the profile was not saved; the page says:\n${await page.locator('main').innerText()}`);
    });

    await page.goto(`${w.origin}/admin/nodes/local`);
    const edit = page.locator('#node-edit-form');
    await edit.locator('input[name="serve.staff"]').check();
    await Promise.all([page.waitForURL(`${w.origin}/admin/nodes/local`), edit.locator('button[type=submit]').click()]);
    expect(w.admin.problems).toEqual([]);

    expect(await w.info(token)).toEqual(['default', 'staff']);
    const keys = await QuickStartWorld.keys();
    const wg = await w.connect(token, { profile_id: 'staff', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
    expect(wg.status, wg.body).toBe(200);
    const client = await w.wireguardUp(wg.body, keys.privateKey);
    expect(await w.pings(client.gateway)).toBe(true);
    expect(await w.localPeers()).toContain(keys.publicKey);

    expect(await w.disconnect(token)).toBe(204);
    await until('the peer gone from the node after /disconnect', 10_000, async () => !(await w.localPeers()).includes(keys.publicKey));
    expect(await w.pings(client.gateway, 3)).toBe(false);
  }, 180_000);

  it('the data folder keeps what the admin made: a second npm start reuses it and prints no new password', async () => {
    const left = await w.start.stop();
    expect(left).toEqual([]);
    const { NpmStart } = await import('./support/npm-start.ts');
    w.start = new NpmStart(w.copy, { PORT: new URL(w.origin).port, EDGEPORT_HOST: w.net.hostAddress, EDGEPORT_WG_INTERFACE: w.iface, EDGEPORT_METRICS_ADDR: '127.0.0.1:0' });
    await w.start.wait(/Sign in with the administrator created on the first run/, 120_000);
    await w.start.wait(/\[node local\] connected to the portal/, 60_000);
    expect(w.start.out).not.toContain('password:');
    const api = await w.adminApi();
    const profiles = ((await (await api.api('GET', '/admin/api/profiles')).json()) as { profiles: { id: string }[] }).profiles.map((p) => p.id);
    expect(profiles.sort()).toEqual(['default', 'staff']);
    expect(readFileSync(join(w.copy, '.data', 'secrets.env'), 'utf8')).toContain('OAUTH_SIGNING_KEY=');
  }, 180_000);
});
