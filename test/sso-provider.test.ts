import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser } from './support/browser.ts';
import { newSigningKey, OidcOp } from './support/oidc-op.ts';
import { answer, followToCallback, secretName, signedIn, SsoPortal, ssoLogin, startSso } from './support/sso-portal.ts';

/**
 * The portal against a certified OpenID Provider (oidc-provider) over plain HTTP: a code and
 * state used twice, a code carried into another login, and the provider rolling its signing
 * key (restart on the same port and storage, new kid, old key gone).
 */

const SECRET = 'university client secret 0123456789';
const ROB = { login: 'rob', password: 'rob at the university 1' };
const op = new OidcOp('University');
const world = new SsoPortal();

beforeAll(async () => {
  const issuer = await op.listen();
  await world.start([{ id: 'uni', name: 'University', issuer, client_id: 'edgeport', scopes: ['openid', 'profile', 'groups'], permissions_claim: 'groups', admin_permissions: ['vpn-admins'] }], {
    [secretName('uni')]: SECRET,
  });
  op.start({ client_id: 'edgeport', client_secret: SECRET, redirect_uris: [`${world.origin}/sso/uni/callback`] }, await newSigningKey('uni-key-1'));
  op.accounts.set('rob', { password: ROB.password, name: 'Rob', groups: ['staff'] });
}, 60_000);

afterAll(async () => {
  await world.stop();
  await op.stop();
});

/** The provider's answer with another state: the code (and `iss`, RFC 9207) as the provider sent them. */
function withState(callback: URL, state: string): string {
  const url = new URL(callback);
  url.searchParams.set('state', state);
  return url.href;
}

/** A browser that holds only `from`'s SSO binding cookie: the right browser, minus its session. */
function sameBindingAs(from: HttpBrowser): HttpBrowser {
  const copy = new HttpBrowser(world.origin);
  copy.cookies.set('edgeport_sso', from.cookies.get('edgeport_sso') as string);
  return copy;
}

let firstCallback: URL;
let replayBrowser: HttpBrowser;
let robBrowser: HttpBrowser;

describe('single sign-on with a certified provider', () => {
  it("signs in (the control): the provider's login form, then the portal with a session", async () => {
    const browser = new HttpBrowser(world.origin);
    const { result, callback } = await ssoLogin(browser, 'uni', { credentials: ROB, next: '/account' });
    expect({ status: result.status, location: result.location }).toEqual({ status: 303, location: '/account' });
    expect(await signedIn(browser)).toBe(true);
    expect(await world.userIds()).toContain('rob');
    expect(op.tokenAnswers).toEqual([200]);
    firstCallback = callback as URL;
    // Kept for the replay below, with the cookie it was bound to.
    replayBrowser = sameBindingAs(browser);
    robBrowser = browser;
  });

  it('the same code and state replayed: 400 state, the code is not sent to the provider again', async () => {
    const res = await answer(await replayBrowser.fetch(firstCallback.href));
    expect({ status: res.status, code: res.code }).toEqual({ status: 400, code: 'state' });
    expect(op.tokenAnswers).toEqual([200]);
    expect(await signedIn(replayBrowser)).toBe(false);
  });

  it('the used code under a fresh state of its own: the provider refuses it → 400 token_rejected, no session', async () => {
    const browser = new HttpBrowser(world.origin);
    const start = await startSso(browser, 'uni');
    await start.arrayBuffer();
    expect(start.status).toBe(303);
    const state = new URL(start.headers.get('location') as string).searchParams.get('state') as string;
    const res = await answer(await browser.fetch(withState(firstCallback, state)));
    expect({ status: res.status, code: res.code }).toEqual({ status: 400, code: 'token_rejected' });
    expect(op.tokenAnswers.at(-1)).toBe(400);
    expect(await signedIn(browser)).toBe(false);
  });

  it("a fresh code carried into another browser's login: PKCE makes the provider refuse it → 400 token_rejected", async () => {
    op.accounts.set('sam', { password: 'sam at the university 1', name: 'Sam', groups: ['staff'] });
    const victim = new HttpBrowser(world.origin);
    const victimCallback = await followToCallback(victim, 'uni', await startSso(victim, 'uni'), { login: 'sam', password: 'sam at the university 1' });
    const attacker = new HttpBrowser(world.origin);
    const start = await startSso(attacker, 'uni');
    await start.arrayBuffer();
    const state = new URL(start.headers.get('location') as string).searchParams.get('state') as string;
    const res = await answer(await attacker.fetch(withState(victimCallback, state)));
    expect({ status: res.status, code: res.code }).toEqual({ status: 400, code: 'token_rejected' });
    expect(await signedIn(attacker)).toBe(false);
    expect(await world.userIds()).not.toContain('sam');
  });

  it('the provider rolls its signing key: the next login works at once (the portal fetches the new JWKS)', async () => {
    // The contract lets the portal refetch a provider's JWKS at most every 10 s: wait that out
    // from the last fetch, so what is tested is the refetch on an unknown kid, not a cache expiry.
    const last = op.jwksServedAt.at(-1);
    expect(last, 'the portal fetched the JWKS to check the first ID token').toBeDefined();
    await sleep(Math.max(0, (last as number) + 10_500 - Date.now()));
    await op.restart(await newSigningKey('uni-key-2'));
    const jwks = (await (await fetch(`${op.issuer}/jwks`)).json()) as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toEqual(['uni-key-2']);
    const fetchesBefore = op.jwksServedAt.length;

    // Rob signs out of the portal and in again. His session at the IdP outlived its restart (same
    // storage), so no login form is shown (ssoLogin is given no credentials and would fail on one).
    const out = await robBrowser.form('/logout', { _csrf: await robBrowser.csrf('/') });
    await out.arrayBuffer();
    expect(await signedIn(robBrowser)).toBe(false);
    const { result } = await ssoLogin(robBrowser, 'uni');
    expect({ status: result.status, code: result.code }).toEqual({ status: 303, code: null });
    expect(await signedIn(robBrowser)).toBe(true);
    expect(op.jwksServedAt.length).toBeGreaterThan(fetchesBefore);
  }, 30_000);
});
