import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from './support/agent-process.ts';
import { BrowserWorld, PROFILE, USER_PASSWORD, type AgentNode } from './support/browser-world.ts';
import { screenshot, signIn, watchedContext, type WatchedContext } from './support/chromium.ts';
import { run, sh } from './support/vpn-tools.ts';

/**
 * A person using the user portal in Debian's chromium, against the real portal and a real node
 * (the shipped agent with wireguard-go and openvpn in a namespace): sign in, make a WireGuard
 * config and see its QR code, download an .ovpn, authorize an app and revoke it, switch language.
 */

const world = new BrowserWorld();
let node: AgentNode;
let w: WatchedContext;
let page: Page;

const wgPeers = async () => (await run('ip', ['netns', 'exec', node.netns, 'wg', 'show', node.wgInterface, 'peers'])).stdout.split('\n').filter(Boolean);

beforeAll(async () => {
  await world.start();
  await world.api('POST', '/admin/api/profiles', PROFILE);
  await world.api('POST', '/admin/api/nodes', { id: 'node-u', name: 'Node U', host_name: 'node-u.example.org', profiles: [{ profile_id: 'staff' }] });
  await world.api('POST', '/admin/api/users', { id: 'alice', password: USER_PASSWORD, permissions: [] });
  const { command } = await world.api<{ command: string }>('POST', '/admin/api/nodes/node-u/enrollment');
  node = await world.startAgent('node-u', await world.enroll(command, 'node-u'));
  // Ready means: connected, WireGuard up, and an OpenVPN server running with its certificate.
  await node.agent.line('connected to the portal', 30_000);
  await node.agent.line('openvpn: server started', 30_000);
  w = await watchedContext(world.browser);
  page = await w.page();
  await signIn(page, world.portal.origin, 'alice', USER_PASSWORD);
}, 120_000);

afterAll(async () => {
  await world.stop();
}, 60_000);

describe('the user portal in a real browser', () => {
  it('makes a WireGuard config: the page shows it once with its private key and a QR code, and the node holds the peer', async () => {
    await page.goto(`${world.portal.origin}/`);
    await expect.poll(() => page.locator('#config-profile option').allTextContents()).toHaveLength(2);
    await page.fill('#config-name', 'laptop');
    await page.selectOption('#config-profile', 'staff:wireguard');
    await Promise.all([page.waitForURL(`${world.portal.origin}/configs`), page.click('#config-create')]);
    const config = await page.inputValue('#wg-config');
    expect(config).toMatch(/^# Profile: Staff \(staff\)$/m);
    const privateKey = /^PrivateKey = (\S+)$/m.exec(config)?.[1];
    expect(privateKey).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(config).toMatch(/^Address = 10\.71\.0\.\d+\/24,fd71::[0-9a-f]+\/64$/m);
    // The QR code is drawn: an SVG with a path of modules, the size a phone app can scan.
    const qr = page.locator('svg#wg-qr');
    await expect.poll(() => qr.isVisible()).toBe(true);
    expect((await qr.boundingBox())?.width).toBeGreaterThan(150);
    expect(((await qr.locator('path').getAttribute('d')) ?? '').length).toBeGreaterThan(500);
    await screenshot(page, 'user-wireguard-config');
    // The key pair is sound (wg derives the same public key) and the real node holds that peer.
    const publicKey = (await sh('wg', ['pubkey'], `${privateKey}\n`)).trim();
    await until('the peer on the node', 10_000, async () => (await wgPeers()).includes(publicKey));
  });

  it('downloads an .ovpn file for a device without an app', async () => {
    await page.goto(`${world.portal.origin}/`);
    await page.fill('#config-name', 'phone');
    await page.selectOption('#config-profile', 'staff:openvpn');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#config-create')]);
    // Upstream's name: <portal host>_<profile>_<yyyymmdd>_<name>.ovpn
    expect(download.suggestedFilename()).toMatch(/^127\.0\.0\.1_staff_\d{8}_phone\.ovpn$/);
    const text = await readFile((await download.path()) as string, 'utf8');
    expect(text).toContain('<ca>');
    expect(text).toContain('<cert>');
    expect(text).toContain('<key>');
    expect(text).toMatch(/^remote vpn\.example\.org 1194 (udp|tcp)$/m);
    // The home page now lists both configs with their expiry.
    await page.goto(`${world.portal.origin}/`);
    await expect.poll(() => page.locator('#configs tbody tr').count()).toBe(2);
    await screenshot(page, 'user-home');
  });

  it('deletes a config: gone from the list and from the node', async () => {
    const before = await wgPeers();
    expect(before).toHaveLength(1);
    await page.goto(`${world.portal.origin}/`);
    await Promise.all([page.waitForURL(`${world.portal.origin}/`), page.getByRole('button', { name: /laptop/ }).click()]);
    await expect.poll(() => page.locator('#configs tbody tr').count()).toBe(1);
    await until('the peer removed from the node', 10_000, async () => (await wgPeers()).length === 0);
  });

  it('authorizes an app through the consent page and revokes it on the account page', async () => {
    const origin = world.portal.origin;
    // The app's loopback listener, as the eduVPN apps run one: the browser is sent there with the code.
    let callback: URL | null = null;
    const listener = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      if (url.pathname === '/callback') callback = url;
      res.end('You may close this window.');
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as AddressInfo).port;
    const redirect = `http://127.0.0.1:${port}/callback`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const query = new URLSearchParams({
      client_id: 'org.eduvpn.app.linux',
      redirect_uri: redirect,
      response_type: 'code',
      scope: 'config',
      state: 'st4te',
      code_challenge_method: 'S256',
      code_challenge: challenge,
    });
    await page.goto(`${origin}/oauth/authorize?${query}`);
    await screenshot(page, 'user-consent');
    await Promise.all([page.waitForURL(`${redirect}?**`), page.getByRole('button', { name: 'Approve' }).click()]);
    const got = callback as URL | null;
    expect(got?.searchParams.get('state')).toBe('st4te');
    const code = got?.searchParams.get('code') as string;
    const token = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'org.eduvpn.app.linux', code, redirect_uri: redirect, code_verifier: verifier }),
    });
    expect(token.status).toBe(200);
    const { refresh_token: refresh } = (await token.json()) as { refresh_token: string };

    await page.goto(`${origin}/account`);
    await expect.poll(() => page.locator('#apps tbody tr').count()).toBe(1);
    await screenshot(page, 'user-account');
    await Promise.all([page.waitForURL(`${origin}/account`), page.getByRole('button', { name: /Revoke/ }).click()]);
    await expect.poll(() => page.locator('#apps-none').isVisible()).toBe(true);
    // Revoked for real: the app's refresh token is refused.
    const again = await fetch(`${origin}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: 'org.eduvpn.app.linux', refresh_token: refresh }),
    });
    expect(again.status).toBe(400);
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant');
    // Closed only now: the browser may still ask the listener for a favicon.
    listener.close();
  });

  it('switches to Dutch and back with the language menu', async () => {
    await page.goto(`${world.portal.origin}/account`);
    await Promise.all([page.waitForURL(`${world.portal.origin}/account`), page.selectOption('select[name=lang]', 'nl')]);
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('nl');
    await expect.poll(() => page.getByRole('link', { name: 'Start' }).isVisible()).toBe(true);
    await page.goto(`${world.portal.origin}/`);
    await screenshot(page, 'user-home-nl');
    await Promise.all([page.waitForURL(`${world.portal.origin}/`), page.selectOption('select[name=lang]', 'en')]);
    await expect.poll(() => page.locator('html').getAttribute('lang')).toBe('en');
  });

  it('broke no Content Security Policy rule and threw no script error on any page it used', () => {
    expect(w.problems).toEqual([]);
  });
});
