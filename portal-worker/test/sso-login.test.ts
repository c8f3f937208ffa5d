import { beforeAll, describe, expect, it } from 'vitest';
import { base64url, sha256Hex } from '../src/core/crypto.ts';
import { Browser, DRIVERS, PASSWORD, dbFor, makeUser, setCookies, type Driver } from './helpers.ts';
import { ISSUER, seedDiscovery, ssoBrowser, ssoCode, start, stateOf, stateRow } from './sso-helpers.ts';

beforeAll(seedDiscovery);

describe('the login page with providers', () => {
  it('offers a button per provider, each a CSRF-carrying form with next, and the password form', async () => {
    const r = await ssoBrowser('d1').fetch('/login?next=%2Faccount');
    expect(r.status).toBe(200);
    const html = await r.text();
    for (const [id, name] of [
      ['uni', 'University'],
      ['other-idp', 'Other'],
    ]) {
      const form = new RegExp(`<form method="post" action="/sso/${id}/start" class="stack">([\\s\\S]*?)</form>`).exec(html)?.[1] ?? '';
      expect(form).toMatch(/<input type="hidden" name="_csrf" value="[\w-]{43}"\/>/);
      expect(form).toContain('<input type="hidden" name="next" value="/account"/>');
      expect(form).toContain(`<button type="submit" id="sso-${id}">Sign in with ${name}</button>`);
    }
    expect(html).toContain('name="password"');
    // The start redirects to the provider: the page's CSP must let the form go there.
    expect(r.headers.get('content-security-policy')).toContain(`form-action 'self' ${ISSUER}`);
  });

  it('says it in Dutch', async () => {
    const b = ssoBrowser('d1');
    b.cookies.set('L', 'nl');
    expect(await (await b.fetch('/login')).text()).toContain('<button type="submit" id="sso-uni">Aanmelden met University</button>');
  });

  it('without providers, only the password form (as before)', async () => {
    const html = await (await new Browser('d1').fetch('/login')).text();
    expect(html).not.toContain('/sso/');
    expect(html).toContain('name="password"');
  });
});

describe.each(DRIVERS)('LOCAL_LOGIN=false on %s', (driver: Driver) => {
  it('hides the password form and refuses POST /login with 403, even with the right password', async () => {
    const id = await makeUser(driver);
    const b = ssoBrowser(driver, { LOCAL_LOGIN: 'false' });
    const page = await (await b.fetch('/login')).text();
    expect(page).not.toContain('name="password"');
    expect(page).not.toContain('action="/login"');
    expect(page).toContain('id="sso-uni"');
    const r = await b.form('/login', { _csrf: await b.csrf('/login'), user: id, password: PASSWORD, next: '/' });
    expect(r.status).toBe(403);
    const html = await r.text();
    expect(html).toContain('<p class="errors" role="alert" id="login-error">Signing in with a user name and password is turned off on this portal.');
    expect(html).toContain('id="sso-uni"');
    expect(b.cookies.has('edgeport_session')).toBe(false);
    const sessions = await (await dbFor(driver)).kysely.selectFrom('browser_sessions').select('id_hash').where('user_id', '=', id).execute();
    expect(sessions).toEqual([]);
  });
});

describe.each(DRIVERS)('POST /sso/<id>/start on %s', (driver: Driver) => {
  it('refuses a missing or wrong CSRF token with 403 and stores nothing', async () => {
    const b = ssoBrowser(driver);
    await b.fetch('/login');
    expect((await b.form('/sso/uni/start', { next: '/' })).status).toBe(403);
    expect((await b.form('/sso/uni/start', { _csrf: 'x'.repeat(43), next: '/' })).status).toBe(403);
    expect(b.cookies.has('edgeport_sso')).toBe(false);
  });

  it('redirects to the authorization endpoint with every parameter, sets the cookie and stores the state hashed', async () => {
    const b = ssoBrowser(driver);
    const before = Date.now();
    const r = await start(b, 'uni', '/account?tab=1');
    expect(r.status).toBe(303);
    const to = new URL(r.headers.get('location') as string);
    expect(to.origin + to.pathname).toBe(`${ISSUER}/authorize`);
    const q = Object.fromEntries(to.searchParams);
    expect(q).toMatchObject({
      tenant: 't1',
      response_type: 'code',
      client_id: 'edgeport',
      redirect_uri: 'http://portal.test/sso/uni/callback',
      scope: 'openid profile groups',
      code_challenge_method: 'S256',
    });
    expect(Object.keys(q).sort()).toEqual(['client_id', 'code_challenge', 'code_challenge_method', 'nonce', 'redirect_uri', 'response_type', 'scope', 'state', 'tenant']);
    expect(q.state).toMatch(/^[\w-]{43}$/);
    expect(q.nonce).toMatch(/^[\w-]{43}$/);

    const cookie = setCookies(r).find((c) => c.startsWith('edgeport_sso=')) as string;
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/Max-Age=600/);

    const row = await stateRow(driver, q.state as string);
    expect(row).toMatchObject({ provider_id: 'uni', nonce: q.nonce, next: '/account?tab=1', used_at: null, browser_hash: await sha256Hex(b.cookies.get('edgeport_sso') as string) });
    expect(row?.expires_at).toBeGreaterThanOrEqual(before + 600_000);
    expect(row?.expires_at).toBeLessThanOrEqual(Date.now() + 600_000);
    // RFC 7636 §4.2: the challenge is the S256 of the verifier kept for the callback.
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(row?.code_verifier)));
    expect(q.code_challenge).toBe(base64url(digest));
    // Only the hash: the state itself is nowhere in the table.
    const db = await dbFor(driver);
    expect(
      await db.kysely
        .selectFrom('sso_states')
        .select('state_hash')
        .where('state_hash', '=', q.state as string)
        .execute(),
    ).toEqual([]);
  });

  it('keeps the browser cookie across starts, and makes each state unique', async () => {
    const b = ssoBrowser(driver);
    const first = stateOf(await start(b));
    const cookie = b.cookies.get('edgeport_sso');
    const second = stateOf(await start(b, 'other-idp'));
    expect(b.cookies.get('edgeport_sso')).toBe(cookie);
    expect(second).not.toBe(first);
    expect((await stateRow(driver, second))?.provider_id).toBe('other-idp');
  });

  it('only keeps a same-site next', async () => {
    const b = ssoBrowser(driver);
    const token = await b.csrf('/login');
    const r = await b.form('/sso/uni/start', { _csrf: token, next: '//evil.example/x' });
    expect((await stateRow(driver, stateOf(r)))?.next).toBe('/');
  });

  it('uses a __Host- Secure cookie over https', async () => {
    const b = ssoBrowser(driver, {}, 'https://portal.test');
    const r = await start(b);
    expect(r.status).toBe(303);
    expect(new URL(r.headers.get('location') as string).searchParams.get('redirect_uri')).toBe('https://portal.test/sso/uni/callback');
    expect(setCookies(r).find((c) => c.startsWith('__Host-edgeport_sso='))).toMatch(/Secure/);
  });

  it('answers 404 unknown_provider for a provider it does not know', async () => {
    const b = ssoBrowser(driver);
    const r = await b.form('/sso/nope/start', { _csrf: await b.csrf('/login'), next: '/' });
    expect(r.status).toBe(404);
    expect(await ssoCode(r)).toBe('unknown_provider');
  });
});
