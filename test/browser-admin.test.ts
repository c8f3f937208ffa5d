import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/agent-process.ts';
import { ADMIN_PASSWORD, BrowserWorld, PROFILE, USER_PASSWORD, type AgentNode } from './support/browser-world.ts';
import { screenshot, signIn, watchedContext, type WatchedContext } from './support/chromium.ts';
import { run, sh, uniqueName } from './support/vpn-tools.ts';

/**
 * An administrator running the service in Debian's chromium, against the real portal and a node
 * enrolled from the page (the shipped agent, wireguard-go and openvpn in a namespace); a user's
 * WireGuard client handshakes with it for real, so the live views and the statistics show real
 * reports. Also: every admin page refuses a non-admin, every form refuses a bad CSRF token, and
 * no page breaks the CSP.
 */

const world = new BrowserWorld();
let admin: WatchedContext;
let user: WatchedContext;
let page: Page;
let node: AgentNode;
let clientInterface = '';
let bobKey = '';

/** The page is never reloaded while we wait: a marker set in its window must survive. */
async function markNoReload(p: Page): Promise<() => Promise<boolean>> {
  const mark = Math.random().toString(36).slice(2);
  await p.evaluate((m) => ((window as unknown as { __mark: string }).__mark = m), mark);
  return async () => (await p.evaluate(() => (window as unknown as { __mark?: string }).__mark)) === mark;
}

const inNode = (cmd: string, args: string[]) => run('ip', ['netns', 'exec', node.netns, cmd, ...args]);

beforeAll(async () => {
  await world.start();
  await world.api('POST', '/admin/api/profiles', PROFILE);
  await world.api('POST', '/admin/api/users', { id: 'bob', password: USER_PASSWORD, permissions: [] });
  await world.api('POST', '/admin/api/users', { id: 'carol', password: USER_PASSWORD, permissions: [] });
  admin = await watchedContext(world.browser);
  page = await admin.page();
  await signIn(page, world.portal.origin, 'admin', ADMIN_PASSWORD);
  user = await watchedContext(world.browser);
}, 120_000);

afterAll(async () => {
  if (clientInterface) await run('rm', ['-f', `/var/run/wireguard/${clientInterface}.sock`]).catch(() => undefined);
  await world.stop();
}, 60_000);

describe('the admin console in a real browser', () => {
  it('adds and enrolls a node from the pages; the nodes page shows it online with its revision, without a reload', async () => {
    const origin = world.portal.origin;
    await page.goto(`${origin}/admin/nodes`);
    const form = page.locator('#new-node-form');
    await form.locator('input[name=id]').fill('node-a');
    await form.locator('input[name=name]').fill('Node A');
    await form.locator('input[name=host_name]').fill('node-a.example.org');
    await form.locator('input[name="serve.staff"]').check();
    await Promise.all([page.waitForURL(`${origin}/admin/nodes/node-a`), form.locator('button[type=submit]').click()]);
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('#enroll-form button[type=submit]').click()]);
    await page.waitForSelector('#enroll-command');
    const command = (await page.inputValue('#enroll-command')).trim();
    expect(command).toMatch(new RegExp(`^edgeport-agent enroll --portal ${origin} --node node-a --token \\S{20,}$`));
    await screenshot(page, 'admin-node-enroll');

    await page.goto(`${origin}/admin/nodes`);
    const row = page.locator('#node-row-node-a');
    expect(await row.getAttribute('data-status')).not.toBe('online');
    const notReloaded = await markNoReload(page);
    const started = Date.now();
    node = await world.startAgent('node-a', await world.enroll(command, 'node-a'));
    await until('the row to show node-a online', 15_000, async () => (await row.getAttribute('data-status')) === 'online');
    const seenAfter = Date.now() - started;
    await until('the applied revision on the row', 10_000, async () => /\d/.test(await row.locator('td').nth(5).innerText()));
    expect(await row.locator('[data-agent-version]').getAttribute('data-agent-version')).toMatch(/^\d+\.\d+\.\d+/);
    expect(await notReloaded()).toBe(true);
    console.log(`node-a shown online ${seenAfter} ms after its agent started (live region, no reload)`);
    await screenshot(page, 'admin-nodes');
  });

  it('a user makes a WireGuard config in the browser, and a real client handshakes with the node', async () => {
    await node.agent.line('openvpn: server started', 30_000);
    const p = await user.page();
    await signIn(p, world.portal.origin, 'bob', USER_PASSWORD);
    await p.fill('#config-name', 'router');
    await p.selectOption('#config-profile', 'staff:wireguard');
    await Promise.all([p.waitForURL(`${world.portal.origin}/configs`), p.click('#config-create')]);
    const config = await p.inputValue('#wg-config');
    const privateKey = /^PrivateKey = (\S+)$/m.exec(config)?.[1] as string;
    const nodeKey = /^PublicKey = (\S+)$/m.exec(config)?.[1] as string;
    const port = /^Endpoint = .*:(\d+)$/m.exec(config)?.[1] as string;
    bobKey = (await sh('wg', ['pubkey'], `${privateKey}\n`)).trim();
    // The client side, in the node's own namespace: the endpoint is the node's listener on loopback.
    clientInterface = uniqueName('epbc', 3);
    const client = world.sandbox.spawnIn(node.netns, 'wireguard-go', ['-f', clientInterface]);
    await until('the client interface', 5_000, async () =>
      inNode('wg', ['show', clientInterface]).then(
        () => true,
        () => false,
      ),
    );
    const keyFile = `${world.dir}/bob.key`;
    await run('sh', ['-c', `umask 077; printf '%s\\n' '${privateKey}' > ${keyFile}`]);
    await inNode('wg', ['set', clientInterface, 'private-key', keyFile, 'peer', nodeKey, 'endpoint', `127.0.0.1:${port}`, 'allowed-ips', '10.71.0.1/32', 'persistent-keepalive', '1']);
    await inNode('ip', ['link', 'set', clientInterface, 'up']);
    await until(`a handshake (${client.log().slice(-200)})`, 15_000, async () => {
      const out = (await inNode('wg', ['show', node.wgInterface, 'latest-handshakes'])).stdout;
      return new RegExp(`^${bobKey.replace(/[+/]/g, '\\$&')}\\s+[1-9]\\d*$`, 'm').test(out);
    });
  });

  it('draws the statistics graph from the real session reports', async () => {
    const origin = world.portal.origin;
    // Each minute keeps its peak count, written as soon as a report beats it.
    await until('a recorded minute with one session', 30_000, async () => {
      await page.goto(`${origin}/admin/stats?period=24h`);
      const max = await page
        .locator('#max-sessions tr[data-profile=staff] td')
        .first()
        .innerText()
        .catch(() => '0');
      return Number(max.trim()) >= 1;
    });
    const line = page.locator('#sessions-chart svg path[data-series=staff]');
    expect(await line.count()).toBe(1);
    // A drawn series: at least one point (minutes without a report are gaps, not zeros); a
    // point between gaps is drawn as a dot.
    expect(await line.getAttribute('d')).toMatch(/^M\s*[\d.]+[ ,][\d.]+/);
    const drawn = await page.locator('#sessions-chart svg g[data-series=staff]').boundingBox();
    expect(drawn?.width ?? 0).toBeGreaterThan(0);
    expect(await page.locator('#nodes-chart svg path[data-series=node-a]').count()).toBe(1);
    await screenshot(page, 'admin-stats');
  });

  it('shows the live connection, and disabling the user makes it disappear from the open page without a reload', async () => {
    const origin = world.portal.origin;
    const live = await admin.page();
    await live.goto(`${origin}/admin/connections`);
    const bobRow = live.locator('tr[data-user=bob]');
    await until('bob connected on the connections page', 15_000, async () => (await bobRow.getAttribute('data-status')) === 'connected');
    await screenshot(live, 'admin-connections');
    const notReloaded = await markNoReload(live);

    await page.goto(`${origin}/admin/users/bob`);
    await screenshot(page, 'admin-user-detail');
    const started = Date.now();
    await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.locator('#user-disable').click()]);
    await until('bob gone from the connections page', 10_000, async () => (await bobRow.count()) === 0);
    console.log(`bob's connection left the open connections page ${Date.now() - started} ms after Disable`);
    expect(await notReloaded()).toBe(true);
    // And from the node itself.
    await until('the peer removed from the node', 10_000, async () => !(await inNode('wg', ['show', node.wgInterface, 'peers'])).stdout.includes(bobKey));
    await live.close();
  });

  it('every admin page refuses a non-admin', async () => {
    const p = await user.page();
    await signIn(p, world.portal.origin, 'carol', USER_PASSWORD);
    for (const path of [
      '/admin/users',
      '/admin/users/bob',
      '/admin/connections',
      '/admin/nodes',
      '/admin/nodes/node-a',
      '/admin/profiles',
      '/admin/profiles/staff',
      '/admin/profiles/new',
      '/admin/stats',
      '/admin/stats.csv?kind=sessions',
      '/admin/log',
      '/admin/audit',
    ]) {
      const res = await p.goto(`${world.portal.origin}${path}`);
      expect([path, res?.status()]).toEqual([path, 403]);
    }
    await screenshot(p, 'admin-forbidden');
    await p.close();
  });

  it('every form on every page refuses a missing or wrong CSRF token', async () => {
    const origin = world.portal.origin;
    const pages = [
      '/',
      '/account',
      '/account/password',
      '/admin/users',
      '/admin/users/carol',
      '/admin/connections',
      '/admin/nodes',
      '/admin/nodes/node-a',
      '/admin/profiles',
      '/admin/profiles/staff',
      '/admin/profiles/new',
      '/admin/stats',
      '/admin/log',
      '/admin/audit',
    ];
    let forms = 0;
    for (const path of pages) {
      await page.goto(`${origin}${path}`);
      // Each POST form, submitted by the page's own fetch (same origin, with the session cookie),
      // once without its token and once with a wrong one.
      const results = await page.evaluate(async () => {
        const out: { action: string; missing: number; wrong: number }[] = [];
        for (const form of Array.from(document.querySelectorAll<HTMLFormElement>('form[method=post]'))) {
          const send = async (token: string | null) => {
            const data = new URLSearchParams();
            new FormData(form).forEach((v, k) => {
              if (k !== '_csrf' && typeof v === 'string') data.append(k, v);
            });
            if (token !== null) data.append('_csrf', token);
            return (await fetch(form.action, { method: 'POST', body: data, redirect: 'manual' })).status;
          };
          out.push({ action: form.action, missing: await send(null), wrong: await send('x'.repeat(43)) });
        }
        return out;
      });
      for (const r of results) expect(r, `${path}: ${r.action}`).toMatchObject({ missing: 403, wrong: 403 });
      forms += results.length;
    }
    console.log(`CSRF: ${forms} forms on ${pages.length} pages refused a missing and a wrong token`);
    expect(forms).toBeGreaterThanOrEqual(20);
  });

  it('screenshots the main pages, one on a phone-sized screen, and no page broke the CSP', async () => {
    const origin = world.portal.origin;
    for (const [path, name] of [
      ['/admin/users', 'admin-users'],
      ['/admin/profiles', 'admin-profiles'],
      ['/admin/profiles/staff', 'admin-profile-edit'],
      ['/admin/log', 'admin-log'],
      ['/admin/audit', 'admin-audit'],
    ] as const) {
      await page.goto(`${origin}${path}`);
      expect([path, await page.evaluate(() => document.compatMode)]).toEqual([path, 'CSS1Compat']);
      await screenshot(page, name);
    }
    const phone = await admin.context.newPage();
    await phone.setViewportSize({ width: 390, height: 844 });
    await phone.goto(`${origin}/admin/nodes`);
    await screenshot(phone, 'admin-nodes-phone');
    // Nothing wider than the screen but the scrollable tables.
    const wide = await phone.evaluate(() =>
      Array.from(document.querySelectorAll<HTMLElement>('body *'))
        .filter((el) => el.getBoundingClientRect().right > 400 && !el.closest('.table-wrap'))
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`)
        .slice(0, 10),
    );
    expect(wide).toEqual([]);
    expect(admin.problems).toEqual([]);
    expect(user.problems).toEqual([]);
  });
});
