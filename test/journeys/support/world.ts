/**
 * What the single-server journeys share: `npm start` in a fresh copy (installing its own
 * dependencies), the user's device in a client namespace, Chromium for the pages, and the
 * app's side of OAuth and the client API. One world serves the journey file; `close()` undoes it.
 */
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import type { Browser } from 'playwright-core';
import { AppLoopback } from '../../support/app-loopback.ts';
import { HttpBrowser } from '../../support/browser.ts';
import { launchChromium, signIn, watchedContext, type WatchedContext } from '../../support/chromium.ts';
import { run, wgKeyPair } from '../../support/vpn-tools.ts';
import { OvpnClient, WgClient, pings } from '../../e2e/vpn-client.ts';
import { ClientNet } from './client-net.ts';
import { NpmStart, freshCopy, removeCopy } from './npm-start.ts';

export const WG = 'application/x-wireguard-profile';
export const OVPN = 'application/x-openvpn-profile';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** A /24 under 10.0.0.0/8 that no interface or route of this machine touches. */
export function freeRange(): string {
  const routes = execFileSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' });
  for (;;) {
    const [a, b] = [randomInt(16, 250), randomInt(0, 256)];
    if (!routes.includes(`10.${a}.${b}.`)) return `10.${a}.${b}.0/24`;
  }
}

export interface Connected {
  status: number;
  body: string;
}

export class QuickStartWorld {
  net!: ClientNet;
  copy = '';
  start!: NpmStart;
  origin = '';
  password = '';
  /** The local node's WireGuard interface, in this machine's namespace. */
  iface = '';
  browser!: Browser;
  admin!: WatchedContext;
  /** Milestones since the fresh copy was made (ms), for bench/RESULTS.md. */
  readonly times: Record<string, number> = {};
  private t0 = 0;
  private readonly clients: { down(): Promise<void> }[] = [];
  private readonly ovpn: OvpnClient[] = [];

  mark(what: string): void {
    this.times[what] ??= Date.now() - this.t0;
  }

  /**
   * `label` names the copy; `installs`: npm start installs the dependencies itself (the first
   * journey proves that); other journeys hard-link the installed ones in to save the minute.
   */
  async open(label: string, installs: boolean): Promise<void> {
    this.t0 = Date.now();
    this.net = await ClientNet.create();
    this.copy = freshCopy(label, !installs);
    this.mark('copied');
    const port = await freePort();
    this.iface = this.net.interfaceName('w');
    this.origin = `http://127.0.0.1:${port}`;
    // The README's command with the documented knobs: the port, the name users' devices reach,
    // and (so as not to disturb a developer's own `npm start`) the local node's interface and metrics port.
    this.start = new NpmStart(this.copy, {
      PORT: String(port),
      EDGEPORT_HOST: this.net.hostAddress,
      EDGEPORT_WG_INTERFACE: this.iface,
      EDGEPORT_METRICS_ADDR: `127.0.0.1:${await freePort()}`,
    });
    this.password = (await this.start.wait(/password: (\S+)/, 600_000))[1] as string;
    this.mark('admin printed');
    await this.start.wait(/\[node local\] config applied/, 120_000);
    this.mark('node applied');
    this.browser = await launchChromium();
    this.admin = await watchedContext(this.browser);
    await signIn(await this.admin.page(), this.origin, 'admin', this.password);
  }

  /** The admin's session for the JSON admin API (cookie and x-csrf-token, as infra/README.md's curl lines). */
  async adminApi(): Promise<HttpBrowser> {
    const b = new HttpBrowser(this.origin);
    if ((await b.login('admin', this.password)).status !== 303) throw new Error('admin login failed');
    return b;
  }

  /** An eduVPN app's authorization: its loopback listener, the user's consent in Chromium, the token exchange. */
  async appToken(user = 'admin', password = this.password): Promise<string> {
    const app = await new AppLoopback().start();
    const ctx = await watchedContext(this.browser);
    try {
      const page = await ctx.page();
      await page.goto(app.authorizeUrl(this.origin));
      if (new URL(page.url()).pathname === '/login') {
        await page.getByLabel(/User name/).fill(user);
        await page.getByLabel(/^Password$/).fill(password);
        await Promise.all([page.waitForURL((u) => u.pathname === '/oauth/authorize'), page.getByRole('button', { name: /Sign in/ }).click()]);
      }
      await Promise.all([page.waitForURL((u) => u.pathname === '/callback'), page.getByRole('button', { name: /Approve/ }).click()]);
      return await app.token(this.origin);
    } finally {
      await ctx.context.close();
      await app.close();
    }
  }

  async info(token: string): Promise<string[]> {
    const r = await fetch(`${this.origin}/api/v3/info`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await r.json()) as { info: { profile_list: { profile_id: string }[] } };
    return body.info.profile_list.map((p) => p.profile_id).sort();
  }

  async connect(token: string, fields: Record<string, string>, accept: string): Promise<Connected> {
    const r = await fetch(`${this.origin}/api/v3/connect`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, accept, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });
    return { status: r.status, body: await r.text() };
  }

  async disconnect(token: string): Promise<number> {
    return (await fetch(`${this.origin}/api/v3/disconnect`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status;
  }

  /** A WireGuard config brought up on the device; resolves to the client (its gateway is the node's address in the range). */
  async wireguardUp(config: string, privateKey: string): Promise<WgClient> {
    const c = await WgClient.up(this.net, this.net.client, this.copy, config, privateKey);
    this.clients.push(c);
    return c;
  }

  async openvpnUp(config: string, name: string): Promise<OvpnClient> {
    const c = await OvpnClient.start(this.net.client, this.copy, name, config);
    this.ovpn.push(c);
    await c.up(30_000);
    return c;
  }

  pings(address: string, count = 5): Promise<boolean> {
    return pings(this.net.client, address, count, 2);
  }

  /** The public keys the local node's WireGuard interface carries right now. */
  async localPeers(): Promise<string[]> {
    const { stdout } = await run('wg', ['show', this.iface, 'peers'], { encoding: 'utf8' });
    return stdout.split('\n').filter(Boolean);
  }

  static keys = wgKeyPair;

  async close(): Promise<void> {
    for (const c of this.clients.splice(0)) await c.down().catch(() => undefined);
    for (const c of this.ovpn.splice(0)) await c.proc.stop().catch(() => undefined);
    await this.browser?.close().catch(() => undefined);
    // The agent leaves its tunnels up when it stops (by design); a journey takes them down itself.
    const left = this.start ? await this.start.stop() : [];
    if (this.copy) removeCopy(this.copy);
    await this.net?.cleanup();
    if (left.length) throw new Error(`npm start left processes running after SIGTERM:\n${left.join('\n')}`);
  }
}
