import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentProcess } from '../support/agent-process.ts';
import { until } from '../support/agent-process.ts';
import type { HttpBrowser } from '../support/browser.ts';
import { run } from '../support/vpn-tools.ts';
import { installNode } from './support/documented-node.ts';
import { recordJourney } from './support/figures.ts';
import { QuickStartWorld, WG, freeRange } from './support/world.ts';

/**
 * infra/README.md "Nodes", word for word, for a second node next to `npm start`'s local one:
 * (1) the admin API creates the node with ranges of its own for the default profile, (2) the
 * enrollment answer holds the command, (3) on the node: the bundle installed, agent.env edited,
 * `enroll`, the unit started. The node is a network namespace of its own (EDGEPORT_NETNS), and
 * `systemctl enable --now` is replaced by running the unit's ExecStart with the environment
 * systemd gives it. Then the profile is served by both nodes, app connects land on both, and a
 * second WireGuard profile with another port is refused with the reason until it agrees.
 */

const w = new QuickStartWorld();
const agents: AgentProcess[] = [];
let api: HttpBrowser;
let n2: { netns: string; address: string };
let token = '';

beforeAll(async () => {
  await w.open('second-node', false);
  api = await w.adminApi();
  n2 = await w.net.node('n2');
}, 600_000);

afterAll(async () => {
  recordJourney('a second node per infra/README.md', w.times);
  await Promise.all(agents.map((a) => a.stop('SIGTERM')));
  await w.close();
}, 120_000);

/** Brings the config up on the device, pings the node's address in the tunnel, takes it down. */
async function pingsThrough(body: string, privateKey: string): Promise<boolean> {
  const client = await w.wireguardUp(body, privateKey);
  try {
    return await w.pings(client.gateway);
  } finally {
    await client.down();
  }
}

describe("journey: a second node added as infra/README.md says (systemctl replaced by running the unit's command with systemd's environment; the node machine is a namespace)", () => {
  it('steps 1-3: the node is created with its own ranges, the enrollment answer holds the command, and the installed agent connects and applies', async () => {
    const created = await api.api('POST', '/admin/api/nodes', {
      id: 'ams2',
      name: 'ams2',
      host_name: n2.address,
      profiles: [{ profile_id: 'default', wireguard: { range_four: freeRange(), range_six: 'fd5e:22::/64' }, openvpn: { range_four: freeRange(), range_six: 'fd5e:23::/64' } }],
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const enrollment = await api.api('POST', '/admin/api/nodes/ams2/enrollment');
    expect(enrollment.status).toBe(201);
    const { command } = (await enrollment.json()) as { command: string };
    expect(command).toMatch(new RegExp(`^edgeport-agent enroll --portal ${w.origin} --node ams2 --token \\S+$`));
    const node = await installNode({
      copy: w.copy,
      root: join(w.copy, 'ams2-root'),
      command,
      settings: { EDGEPORT_PORTAL_URLS: w.origin, EDGEPORT_NODE_ID: 'ams2', EDGEPORT_WG_INTERFACE: w.net.interfaceName('n'), EDGEPORT_NETNS: n2.netns, EDGEPORT_METRICS_ADDR: '127.0.0.1:0' },
      registry: agents,
    });
    await node.agent.line('config applied', 30_000, (l) => l.why === 'portal');
    const view = await until('ams2 online with its key', 15_000, async () => {
      const v = (await (await api.api('GET', '/admin/api/nodes/ams2')).json()) as { wg_public_key: string | null; status: { connected: boolean } | null };
      return v.wg_public_key && v.status?.connected ? v : null;
    });
    expect(view.wg_public_key).toMatch(/=$/);
  }, 120_000);

  it('the default profile is served by both nodes: app connects land on each, and each config carries a ping through its own node', async () => {
    token = await w.appToken();
    const landed = new Set<string>();
    for (let i = 0; i < 40 && landed.size < 2; i++) {
      const keys = await QuickStartWorld.keys();
      const r = await w.connect(token, { profile_id: 'default', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
      expect(r.status, r.body).toBe(200);
      const host = /^Endpoint = (.+):51820$/m.exec(r.body)?.[1] ?? '';
      expect([w.net.hostAddress, n2.address]).toContain(host);
      if (landed.has(host)) continue;
      expect(await pingsThrough(r.body, keys.privateKey), `a ping through the tunnel to ${host}`).toBe(true);
      landed.add(host);
    }
    expect([...landed].sort()).toEqual([w.net.hostAddress, n2.address].sort());
  }, 180_000);

  it('a second WireGuard profile on another port is refused for the node with the reason (API and page); on the same port it is accepted and its clients reach the node', async () => {
    const second = { id: 'second', display_name: 'Second', host_name: n2.address, default_gateway: false, wireguard: { range_four: freeRange(), range_six: 'fd5e:24::/64', port: 51821 } };
    expect((await api.api('POST', '/admin/api/profiles', second)).status).toBe(201);
    const own = (await (await api.api('GET', '/admin/api/nodes/ams2')).json()) as { name: string; host_name: string; profiles: unknown[] };
    const both = { name: own.name, host_name: own.host_name, profiles: [...own.profiles, { profile_id: 'second' }] };
    const refused = await api.api('PUT', '/admin/api/nodes/ams2', both);
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('WireGuard port 51821 of profile \\"second\\" differs from port 51820 of profile \\"default\\" on this node: a node listens on one WireGuard port');

    const page = await w.admin.page();
    await page.goto(`${w.origin}/admin/nodes/ams2`);
    const edit = page.locator('#node-edit-form');
    await edit.locator('input[name="serve.second"]').check();
    await edit.locator('button[type=submit]').click();
    await page.waitForLoadState();
    await expect.poll(() => page.locator('main').innerText()).toContain('a node listens on one WireGuard port');

    expect((await api.api('PUT', '/admin/api/profiles/second', { ...second, wireguard: { ...second.wireguard, port: 51820 } })).status).toBe(200);
    const accepted = await api.api('PUT', '/admin/api/nodes/ams2', both);
    expect(accepted.status, await accepted.clone().text()).toBe(200);
    const keys = await QuickStartWorld.keys();
    const r = await w.connect(token, { profile_id: 'second', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
    expect(r.status, r.body).toBe(200);
    expect(r.body).toContain(`Endpoint = ${n2.address}:51820`);
    expect(await pingsThrough(r.body, keys.privateKey)).toBe(true);
    // The node listens on that one port, in its own namespace.
    const { stdout } = await run('ip', ['netns', 'exec', n2.netns, 'ss', '-Hlun'], { encoding: 'utf8' });
    expect(stdout).toMatch(/:51820\b/);
    expect(stdout).not.toMatch(/:51821\b/);
  }, 180_000);
});
