import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppLoopback, infoProfiles } from './support/app-loopback.ts';
import { launchChromium, screenshot, watchedContext, type WatchedContext } from './support/chromium.ts';
import { newSigningKey, OidcOp } from './support/oidc-op.ts';
import { secretName, SsoPortal } from './support/sso-portal.ts';

/**
 * People signing in with their institution's account in Debian's chromium: the portal's real
 * login page, a certified OpenID Provider (oidc-provider) on loopback with its own login form,
 * groups from the `groups` claim deciding the profiles an app sees and who gets the admin
 * console, a group removed at the IdP taking effect at the next login, the IdP's Cancel shown
 * as an error page, and the login page in English and Dutch; no page breaks the CSP.
 */

const SECRET = 'university client secret for the browser 01';
const op = new OidcOp('University');
const world = new SsoPortal();
let browser: Browser;
const watched: WatchedContext[] = [];
const apps: AppLoopback[] = [];
let daveToken = '';

beforeAll(async () => {
  const issuer = await op.listen();
  [, browser] = await Promise.all([
    world.start([{ id: 'uni', name: 'University', issuer, client_id: 'edgeport', scopes: ['openid', 'profile', 'groups'], permissions_claim: 'groups', admin_permissions: ['vpn-admins'] }], {
      [secretName('uni')]: SECRET,
    }),
    launchChromium(),
  ]);
  op.start({ client_id: 'edgeport', client_secret: SECRET, redirect_uris: [`${world.origin}/sso/uni/callback`] }, await newSigningKey('browser-key-1'));
  op.accounts.set('carol', { password: 'carol at the university', name: 'Carol Staff', groups: ['staff'] });
  op.accounts.set('dave', { password: 'dave at the university', name: 'Dave Admin', groups: ['staff', 'vpn-admins'] });
  op.accounts.set('erin', { password: 'erin at the university', name: 'Erin', groups: ['staff'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await Promise.all(apps.map((a) => a.close()));
  await world.stop();
  await op.stop();
});

/** A fresh browser profile (no cookies at the portal or the IdP), watched for CSP and script errors. */
async function newPage(locale = 'en-US'): Promise<Page> {
  const w = await watchedContext(browser, { locale });
  watched.push(w);
  return w.page();
}

const atIdp = (u: URL) => u.origin === op.issuer && u.pathname.startsWith('/interaction/');

/** On the portal's login page: the provider's button, the IdP's own form, back at the portal. */
async function ssoSignIn(page: Page, login: string, password: string): Promise<void> {
  await Promise.all([page.waitForURL(atIdp), page.click('#sso-uni')]);
  await page.fill('#op-login', login);
  await page.fill('#op-password', password);
  await Promise.all([page.waitForURL((u) => u.origin === world.origin && !u.pathname.startsWith('/sso/')), page.click('#op-submit')]);
}

/**
 * What an eduVPN app does: opens the browser at the authorize URL; a person not yet signed in
 * (`person` given) goes through the login page and the IdP and comes back to the consent page;
 * Approve sends the browser to the app's loopback listener; the app exchanges the code.
 */
async function appToken(page: Page, person?: { login: string; password: string }): Promise<string> {
  const app = await new AppLoopback().start();
  // Closed in afterAll: the browser may still ask the listener for a favicon.
  apps.push(app);
  await page.goto(app.authorizeUrl(world.origin));
  if (person) {
    expect(new URL(page.url()).pathname).toBe('/login');
    await ssoSignIn(page, person.login, person.password);
  }
  expect(new URL(page.url()).pathname).toBe('/oauth/authorize');
  await Promise.all([page.waitForURL(`${app.redirect}?**`), page.getByRole('button', { name: 'Approve' }).click()]);
  return app.token(world.origin);
}

describe('single sign-on in a real browser', () => {
  it('the login page offers "Sign in with University" in English and "Aanmelden met University" in Dutch', async () => {
    const en = await newPage('en-US');
    await en.goto(`${world.origin}/login`);
    expect((await en.locator('#sso-uni').innerText()).trim()).toBe('Sign in with University');
    // LOCAL_LOGIN is on: the password form is still there.
    await expect.poll(() => en.locator('input[name=password]').isVisible()).toBe(true);
    await screenshot(en, 'sso-login-en');

    const nl = await newPage('nl-NL');
    await nl.goto(`${world.origin}/login`);
    await expect.poll(() => nl.locator('html').getAttribute('lang')).toBe('nl');
    expect((await nl.locator('#sso-uni').innerText()).trim()).toBe('Aanmelden met University');
    await screenshot(nl, 'sso-login-nl');
  });

  it('carol (group "staff") signs in at the IdP from an app\'s authorization; /api/v3/info lists only the staff profile', async () => {
    const page = await newPage();
    const token = await appToken(page, { login: 'carol', password: 'carol at the university' });
    expect(await infoProfiles(world.origin, token)).toEqual(['staff']);
    // Signed in at the portal too, as herself, and not an administrator.
    await page.goto(`${world.origin}/`);
    expect(new URL(page.url()).pathname).toBe('/');
    await expect.poll(() => page.locator('body').innerText()).toContain('Carol Staff');
    const admin = await page.goto(`${world.origin}/admin`);
    expect(admin?.status()).toBe(403);
  });

  it('dave (group "vpn-admins", in admin_permissions) gets the admin console and both profiles', async () => {
    const page = await newPage();
    await page.goto(`${world.origin}/admin`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await ssoSignIn(page, 'dave', 'dave at the university');
    // Back at the page asked for: the console (its index shows the users list).
    expect(new URL(page.url()).pathname).toMatch(/^\/admin(\/|$)/);
    await expect.poll(() => page.locator('a[href="/admin/nodes"]').count()).toBeGreaterThan(0);
    // Already signed in: straight to the consent page.
    daveToken = await appToken(page);
    expect(await infoProfiles(world.origin, daveToken)).toEqual(['admins', 'staff']);
  });

  it('dave loses "vpn-admins" at the IdP: at his next login the admins profile and the console are gone', async () => {
    op.accounts.set('dave', { ...(op.accounts.get('dave') as { password: string; name: string; groups: string[] }), groups: ['staff'] });
    // Permissions come from the claims at login: nothing changes until he signs in again.
    expect(await infoProfiles(world.origin, daveToken)).toEqual(['admins', 'staff']);
    const page = await newPage();
    await page.goto(`${world.origin}/login`);
    await ssoSignIn(page, 'dave', 'dave at the university');
    // The same app token now sees what the new claims allow.
    expect(await infoProfiles(world.origin, daveToken)).toEqual(['staff']);
    expect((await page.goto(`${world.origin}/admin`))?.status()).toBe(403);
  });

  it('erin cancels at the IdP: the error page shows provider_error and nothing is written', async () => {
    const page = await newPage();
    await page.goto(`${world.origin}/login`);
    await Promise.all([page.waitForURL(atIdp), page.click('#sso-uni')]);
    const [callback] = await Promise.all([page.waitForResponse((r) => new URL(r.url()).pathname === '/sso/uni/callback'), page.click('#op-cancel')]);
    expect(callback.status()).toBe(400);
    expect(await page.locator('#sso-error').getAttribute('data-code')).toBe('provider_error');
    expect(await page.locator('h1').innerText()).toBe('Sign-in failed');
    expect(await page.locator('#sso-error').innerText()).toContain('did not complete the sign-in');
    await screenshot(page, 'sso-error');
    await page.goto(`${world.origin}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(await world.userIds()).not.toContain('erin');
  });

  it('the same error page in Dutch, with the same code', async () => {
    const page = await newPage('nl-NL');
    await page.goto(`${world.origin}/login`);
    await Promise.all([page.waitForURL(atIdp), page.click('#sso-uni')]);
    await Promise.all([page.waitForURL((u) => u.pathname === '/sso/uni/callback'), page.click('#op-cancel')]);
    expect(await page.locator('#sso-error').getAttribute('data-code')).toBe('provider_error');
    expect(await page.locator('h1').innerText()).toBe('Aanmelden mislukt');
  });

  it('broke no Content Security Policy rule and threw no script error on any page it used', () => {
    expect(watched.flatMap((w) => w.problems)).toEqual([]);
  });
});
