import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { HttpBrowser } from './browser.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './portal.ts';

/**
 * The real portal configured for single sign-on (the `OIDC_PROVIDERS` contract), with an
 * administrator and two group-gated profiles, plus the helpers the SSO suites share: starting a
 * login from the real login page and following it through an IdP, reading the error page's
 * stable code, and checking that a failure wrote nothing.
 */

export const ADMIN_PASSWORD = 'sso admin password 1';

export interface SsoProvider {
  id: string;
  name: string;
  issuer: string;
  client_id: string;
  scopes?: string[];
  user_id_claim?: string;
  permissions_claim?: string;
  admin_permissions?: string[];
  userinfo?: boolean;
}

/** `OIDC_CLIENT_SECRET_<ID>`: the id upper-cased, `-` → `_`. */
export const secretName = (id: string) => `OIDC_CLIENT_SECRET_${id.toUpperCase().replace(/-/g, '_')}`;

const profile = (id: string, name: string, group: string, n: number) => ({
  id,
  display_name: name,
  host_name: 'vpn.example.org',
  dns_servers: ['9.9.9.9'],
  acl_permissions: [group],
  wireguard: { range_four: `10.8${n}.0.0/24`, range_six: `fd8${n}::/64` },
  openvpn: null,
});

export class SsoPortal {
  portal!: Portal;
  admin!: HttpBrowser;

  get origin(): string {
    return this.portal.origin;
  }

  /**
   * Providers and secrets as a deployment sets them; two profiles: `staff` for group "staff",
   * `admins` for group "vpn-admins", so /api/v3/info shows which groups a login carried.
   */
  async start(providers: SsoProvider[], secrets: Record<string, string>, vars: Record<string, string> = {}): Promise<this> {
    this.portal = await startPortal({ OIDC_PROVIDERS: JSON.stringify(providers), LOCAL_LOGIN: 'true', ...secrets, ...vars });
    const setup = await fetch(`${this.origin}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: ADMIN_PASSWORD }),
    });
    const setupText = await setup.text();
    if (setup.status !== 201) throw new Error(`setup answered ${setup.status}: ${setupText}`);
    this.admin = new HttpBrowser(this.origin);
    const login = await this.admin.login('admin', ADMIN_PASSWORD);
    await login.arrayBuffer();
    if (login.status !== 303) throw new Error('admin login failed');
    await this.api('POST', '/admin/api/profiles', profile('staff', 'Staff', 'staff', 1));
    await this.api('POST', '/admin/api/profiles', profile('admins', 'Admins', 'vpn-admins', 2));
    return this;
  }

  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const r = await this.admin.api(method, path, body);
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path} → ${r.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** The user rows, as the admin JSON API lists them. */
  async userIds(): Promise<string[]> {
    return (await this.api<{ users: { id: string }[] }>('GET', '/admin/api/users')).users.map((u) => u.id);
  }

  async stop(): Promise<void> {
    await this.portal?.stop();
  }
}

/** A loopback port nothing listens on: a provider that is down. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What the user sees after the portal's callback (or start) answered. */
export interface SsoAnswer {
  status: number;
  location: string | null;
  /** `data-code` of `<p id="sso-error">`, or null when the page has none. */
  code: string | null;
  html: string;
}

export async function answer(res: Response): Promise<SsoAnswer> {
  const html = await res.text();
  const tag = /<p\b[^>]*\bid="sso-error"[^>]*>/.exec(html)?.[0] ?? '';
  return { status: res.status, location: res.headers.get('location'), code: /\bdata-code="([^"]+)"/.exec(tag)?.[1] ?? null, html };
}

/**
 * Clicks "Sign in with <provider>" as the login page offers it: reads the page's form for that
 * provider (its CSRF token and `next`) and posts it. Answers the portal's response: 303 to the
 * provider, or an error page.
 */
export async function startSso(browser: HttpBrowser, providerId: string, next = '/'): Promise<Response> {
  const html = await (await browser.fetch(`/login?next=${encodeURIComponent(next)}`)).text();
  const form = new RegExp(`<form[^>]*action="/sso/${providerId}/start"[^>]*>([\\s\\S]*?)</form>`).exec(html)?.[1];
  if (!form) throw new Error(`the login page has no form for provider ${providerId}`);
  if (!form.includes(`id="sso-${providerId}"`)) throw new Error(`the form for ${providerId} has no button #sso-${providerId}`);
  const fields = Object.fromEntries([...form.matchAll(/<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"/g)].map((m) => [m[1] as string, (m[2] as string).replace(/&amp;/g, '&')]));
  return browser.form(`/sso/${providerId}/start`, fields);
}

export interface SsoRun {
  /** The portal's answer to its callback (or to the start when it did not redirect). */
  result: SsoAnswer;
  /** The callback URL the provider sent the browser to, when it got that far. */
  callback: URL | null;
}

/**
 * A whole SSO login over HTTP: the login page's button, the provider's redirects, its login form
 * (filled with `credentials` when it shows one), back to the portal's callback.
 */
export async function ssoLogin(browser: HttpBrowser, providerId: string, opts: { next?: string; credentials?: { login: string; password: string } } = {}): Promise<SsoRun> {
  const res = await startSso(browser, providerId, opts.next);
  if (res.status !== 303) return { result: await answer(res), callback: null };
  const callback = await followToCallback(browser, providerId, res, opts.credentials);
  return { result: await answer(await browser.fetch(callback.href)), callback };
}

/**
 * Follows the redirects from the portal's start through the provider (signing in at its form
 * when it shows one) up to the portal's callback URL, which it returns without opening it. One
 * cookie jar for both, as a browser has for 127.0.0.1 (cookies do not tell ports apart).
 */
export async function followToCallback(browser: HttpBrowser, providerId: string, res: Response, credentials?: { login: string; password: string }): Promise<URL> {
  let url = new URL(browser.origin);
  for (let hops = 0; hops < 20; hops++) {
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      // Read to the end, as a browser does: an abandoned body would cut the connection under the server.
      await res.arrayBuffer();
      url = new URL(location, url);
      if (url.origin === browser.origin && url.pathname === `/sso/${providerId}/callback`) return url;
      res = await browser.fetch(url.href);
      continue;
    }
    const html = await res.text();
    const action = /<form method="post" action="([^"]+)"><label>Login/.exec(html)?.[1];
    if (res.status !== 200 || !action || !credentials) throw new Error(`stuck at ${url.href}: ${res.status} ${html.slice(0, 300)}`);
    url = new URL(action, url);
    res = await browser.fetch(url.href, { method: 'POST', body: new URLSearchParams(credentials) });
  }
  throw new Error('too many redirects');
}

/** Signed in means GET / shows the portal; otherwise it is redirected to the login page. */
export async function signedIn(browser: HttpBrowser): Promise<boolean> {
  const res = await browser.fetch('/');
  await res.arrayBuffer();
  if (res.status === 200) return true;
  if (res.status >= 300 && res.status < 400 && (res.headers.get('location') ?? '').startsWith('/login')) return false;
  throw new Error(`GET / answered ${res.status} ${res.headers.get('location')}`);
}
