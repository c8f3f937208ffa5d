import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser } from './support/browser.ts';
import { RogueIdp, type RogueMode } from './support/rogue-idp.ts';
import { answer, closedPort, followToCallback, secretName, signedIn, SsoPortal, ssoLogin, startSso, type SsoAnswer } from './support/sso-portal.ts';

/**
 * Every way an SSO login fails, against the real portal and a provider that misbehaves on
 * purpose (test/support/rogue-idp.ts: real HTTP, real RS256 signatures). Each failure must show
 * the error page with its stable code and status, and write nothing: no user row (the admin
 * JSON API does not list the user) and no session (GET / still sends the browser to /login).
 * A `good` login through the same provider first shows the rogue is otherwise a working IdP.
 */

const SECRET = 'rogue client secret 0123456789abcdef';
const rogue = new RogueIdp({ edgeport: SECRET });
const world = new SsoPortal();

beforeAll(async () => {
  const issuer = await rogue.start();
  // Nothing listens there: discovery of this provider fails as it does when an IdP is down.
  const down = `http://127.0.0.1:${await closedPort()}`;
  await world.start(
    [
      { id: 'rogue', name: 'Rogue', issuer, client_id: 'edgeport', scopes: ['openid', 'profile', 'groups'], permissions_claim: 'groups' },
      { id: 'rogue-uid', name: 'Rogue by uid', issuer, client_id: 'edgeport', user_id_claim: 'uid' },
      { id: 'down', name: 'Down', issuer: down, client_id: 'edgeport' },
    ],
    { [secretName('rogue')]: SECRET, [secretName('rogue-uid')]: SECRET, [secretName('down')]: SECRET },
  );
}, 60_000);

afterAll(async () => {
  await world.stop();
  await rogue.stop();
});

/** A new browser and a login at the rogue IdP in `mode` as user `id`. */
async function loginAs(id: string, mode: RogueMode, providerId = 'rogue', extra: { uid?: string } = {}) {
  rogue.mode = mode;
  rogue.user = { sub: id, name: `Person ${id}`, groups: ['staff'], ...extra };
  const browser = new HttpBrowser(world.origin);
  const run = await ssoLogin(browser, providerId, { next: '/account' });
  return { browser, ...run };
}

/** The error page with its code, nothing echoed that must stay secret, and nothing written. */
async function expectRefused(browser: HttpBrowser, got: SsoAnswer, status: number, code: string, userId: string) {
  expect({ status: got.status, code: got.code }).toEqual({ status, code });
  expect(got.html).toContain('<h1>Sign-in failed</h1>');
  expect(got.html).not.toContain(SECRET);
  expect(await signedIn(browser)).toBe(false);
  expect(await world.userIds()).not.toContain(userId);
}

/** Starts a login and lets the rogue answer, but stops before the browser opens the callback. */
async function callbackFor(browser: HttpBrowser, providerId = 'rogue'): Promise<URL> {
  rogue.mode = 'good';
  const start = await startSso(browser, providerId);
  expect(start.status).toBe(303);
  return followToCallback(browser, providerId, start);
}

describe('a working login through the same provider (the control)', () => {
  it('creates the user with the permissions from the groups claim, signs in and goes to next', async () => {
    const { browser, result } = await loginAs('good-gina', 'good');
    expect({ status: result.status, location: result.location }).toEqual({ status: 303, location: '/account' });
    expect(await signedIn(browser)).toBe(true);
    const { users } = await world.api<{ users: { id: string; permissions: string[]; hasLocalAccount: boolean; isAdmin: boolean; displayName: string | null }[] }>('GET', '/admin/api/users');
    expect(users.find((u) => u.id === 'good-gina')).toMatchObject({ permissions: ['staff'], hasLocalAccount: false, isAdmin: false, displayName: 'Person good-gina' });
    // What the portal sent, as the contract says: code flow, PKCE S256, a nonce, its own callback.
    const sent = rogue.authorizeRequests.at(-1) as URLSearchParams;
    expect(Object.fromEntries([...sent].filter(([k]) => ['response_type', 'client_id', 'redirect_uri', 'scope', 'code_challenge_method'].includes(k)))).toEqual({
      response_type: 'code',
      client_id: 'edgeport',
      redirect_uri: `${world.origin}/sso/rogue/callback`,
      scope: 'openid profile groups',
      code_challenge_method: 'S256',
    });
    expect(sent.get('nonce')).toMatch(/^.{16,}$/);
    expect(sent.get('state')).toMatch(/^.{16,}$/);
    // The token request passed a real provider's checks: client_secret_basic, redirect URI, PKCE.
    expect(rogue.tokenRequests.at(-1)?.problem).toBeNull();
  });
});

describe('a provider that misbehaves', () => {
  const cases: [RogueMode, number, string][] = [
    ['wrong-nonce', 400, 'id_token_invalid'],
    ['no-nonce', 400, 'id_token_invalid'],
    ['expired', 400, 'id_token_invalid'],
    ['foreign-key', 400, 'id_token_invalid'],
    ['forged-signature', 400, 'id_token_invalid'],
    ['alg-none', 400, 'id_token_invalid'],
    ['wrong-aud', 400, 'id_token_invalid'],
    ['wrong-iss', 400, 'id_token_invalid'],
    ['no-sub', 400, 'missing_claim'],
    ['token-refused', 400, 'token_rejected'],
    ['token-500', 502, 'provider_unreachable'],
    ['token-reset', 502, 'provider_unreachable'],
    ['access-denied', 400, 'provider_error'],
  ];
  it.each(cases)('%s: %i %s, nothing written', async (mode, status, code) => {
    const id = `rogue-${mode}`;
    const { browser, result } = await loginAs(id, mode);
    await expectRefused(browser, result, status, code, id);
    // Only the misbehaviour differs from the control: the portal's own token request was sound.
    if (mode !== 'access-denied') expect(rogue.tokenRequests.at(-1)?.problem).toBeNull();
  });

  it('a provider configured with user_id_claim "uid" takes the user id from that claim', async () => {
    const { browser, result } = await loginAs('opaque-4711', 'good', 'rogue-uid', { uid: 'uid-ulla' });
    expect(result.status).toBe(303);
    expect(await signedIn(browser)).toBe(true);
    const ids = await world.userIds();
    expect(ids).toContain('uid-ulla');
    expect(ids).not.toContain('opaque-4711');
  });

  it.each([['no-user-claim'], ['empty-user-claim']] as [RogueMode][])('%s: a valid ID token without a usable user-id claim → 400 missing_claim', async (mode) => {
    const { browser, result } = await loginAs(`opaque-${mode}`, mode, 'rogue-uid');
    await expectRefused(browser, result, 400, 'missing_claim', `opaque-${mode}`);
  });

  it('a provider that is down: 502 provider_unreachable at the start, nothing written', async () => {
    const browser = new HttpBrowser(world.origin);
    const { result, callback } = await ssoLogin(browser, 'down');
    expect(callback).toBeNull();
    expect({ status: result.status, code: result.code }).toEqual({ status: 502, code: 'provider_unreachable' });
    expect(await signedIn(browser)).toBe(false);
  });

  it('the start is CSRF-checked: without or with a wrong token → 403, not sent on to the provider', async () => {
    const browser = new HttpBrowser(world.origin);
    await browser.csrf('/login');
    for (const fields of [{ next: '/' }, { _csrf: 'not-the-token', next: '/' }] as Record<string, string>[]) {
      const res = await browser.form('/sso/rogue/start', fields);
      await res.arrayBuffer();
      expect({ status: res.status, location: res.headers.get('location') }).toEqual({ status: 403, location: null });
    }
  });

  it('an unknown provider id: 404 unknown_provider at start and at callback', async () => {
    const browser = new HttpBrowser(world.origin);
    const csrf = await browser.csrf('/login');
    for (const res of [await browser.form('/sso/nope/start', { _csrf: csrf, next: '/' }), await browser.fetch('/sso/nope/callback?code=c&state=s')]) {
      const got = await answer(res);
      expect({ status: got.status, code: got.code }).toEqual({ status: 404, code: 'unknown_provider' });
    }
    expect(await signedIn(browser)).toBe(false);
  });
});

describe('the login state', () => {
  /** The callback refused with `state`, before any code exchange, and nobody signed in. */
  async function expectStateRefused(browser: HttpBrowser, url: URL) {
    const before = rogue.tokenRequests.length;
    const got = await answer(await browser.fetch(url.href));
    expect({ status: got.status, code: got.code }).toEqual({ status: 400, code: 'state' });
    expect(got.html).toContain('<h1>Sign-in failed</h1>');
    expect(rogue.tokenRequests.length).toBe(before);
    expect(await signedIn(browser)).toBe(false);
  }

  /** Who the rogue would sign in, were the code ever exchanged: never listed afterwards. */
  const person = (sub: string) => (rogue.user = { sub, name: sub, groups: ['staff'] }).sub;

  it('missing: a callback without state is refused', async () => {
    const id = person('state-missing-mia');
    const browser = new HttpBrowser(world.origin);
    const url = await callbackFor(browser);
    url.searchParams.delete('state');
    await expectStateRefused(browser, url);
    expect(await world.userIds()).not.toContain(id);
  });

  it('tampered: one character changed is refused', async () => {
    const id = person('state-tampered-tom');
    const browser = new HttpBrowser(world.origin);
    const url = await callbackFor(browser);
    const state = url.searchParams.get('state') as string;
    url.searchParams.set('state', state.slice(0, -1) + (state.endsWith('A') ? 'B' : 'A'));
    await expectStateRefused(browser, url);
    expect(await world.userIds()).not.toContain(id);
  });

  it('replayed: the same code and state a second time are refused, the state was used up', async () => {
    person('replay-rita');
    const first = new HttpBrowser(world.origin);
    const url = await callbackFor(first);
    const ok = await first.fetch(url.href);
    await ok.arrayBuffer();
    expect(ok.status).toBe(303);
    // Even the browser the state was bound to (its cookie, not its new session) cannot use it again.
    const again = new HttpBrowser(world.origin);
    again.cookies.set('edgeport_sso', first.cookies.get('edgeport_sso') as string);
    await expectStateRefused(again, url);
  });

  it("started in another browser: a callback carrying someone else's state is refused", async () => {
    person('victim-vera');
    const victim = new HttpBrowser(world.origin);
    const url = await callbackFor(victim);
    // The other browser has an SSO cookie of its own, from a login it started itself.
    const attacker = new HttpBrowser(world.origin);
    await callbackFor(attacker);
    await expectStateRefused(attacker, url);
    // And one with no SSO cookie at all.
    await expectStateRefused(new HttpBrowser(world.origin), url);
    expect(await world.userIds()).not.toContain('victim-vera');
  });

  it("for another provider: a state started at one provider is refused at another's callback", async () => {
    const id = person('state-elsewhere-eli');
    const browser = new HttpBrowser(world.origin);
    const url = await callbackFor(browser, 'rogue');
    url.pathname = '/sso/rogue-uid/callback';
    await expectStateRefused(browser, url);
    expect(await world.userIds()).not.toContain(id);
  });

  it('keeps `next` on the portal: a start posted with next=//elsewhere ends at /', async () => {
    person('next-nora');
    rogue.mode = 'good';
    const browser = new HttpBrowser(world.origin);
    // Posted by hand: the login page itself would already have cleaned the `next` it puts in the form.
    const start = await browser.form('/sso/rogue/start', { _csrf: await browser.csrf('/login'), next: '//evil.example/steal' });
    const result = await answer(await browser.fetch((await followToCallback(browser, 'rogue', start)).href));
    expect({ status: result.status, location: result.location }).toEqual({ status: 303, location: '/' });
    expect(await signedIn(browser)).toBe(true);
  });
});

describe('users the login may not sign in', () => {
  it('a local account with the same id: 409 account_conflict, the account unchanged', async () => {
    await world.api('POST', '/admin/api/users', { id: 'local-lisa', password: 'local lisa password 1', permissions: [] });
    const { browser, result } = await loginAs('local-lisa', 'good');
    expect({ status: result.status, code: result.code }).toEqual({ status: 409, code: 'account_conflict' });
    expect(await signedIn(browser)).toBe(false);
    const { users } = await world.api<{ users: { id: string; permissions: string[]; hasLocalAccount: boolean }[] }>('GET', '/admin/api/users');
    expect(users.find((u) => u.id === 'local-lisa')).toMatchObject({ permissions: [], hasLocalAccount: true });
  });

  it('a user made by another provider: 409 account_conflict', async () => {
    // good-gina came from "rogue"; the same id from "rogue-uid" is another person.
    const { browser, result } = await loginAs('opaque-gina', 'good', 'rogue-uid', { uid: 'good-gina' });
    expect({ status: result.status, code: result.code }).toEqual({ status: 409, code: 'account_conflict' });
    expect(await signedIn(browser)).toBe(false);
  });

  it('a disabled user: 403 disabled, no session', async () => {
    await world.api('POST', '/admin/api/users/good-gina/disable');
    const { browser, result } = await loginAs('good-gina', 'good');
    expect({ status: result.status, code: result.code }).toEqual({ status: 403, code: 'disabled' });
    expect(await signedIn(browser)).toBe(false);
  });
});
