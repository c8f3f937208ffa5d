import { beforeAll, describe, expect, it } from 'vitest';
import { randomToken } from '../src/core/crypto.ts';
import { DRIVERS, dbFor, setCookies, type Driver } from './helpers.ts';
import { seedDiscovery, ssoBrowser, ssoCode, start, stateOf, stateRow } from './sso-helpers.ts';

beforeAll(seedDiscovery);

describe.each(DRIVERS)('GET /sso/<id>/callback on %s', (driver: Driver) => {
  /**
   * Answers 400 `state` and writes nothing: the row is as it was, no session cookie is set and
   * no session stored (found by a user agent of its own, as other files sign in at the same time).
   */
  async function refused(b: ReturnType<typeof ssoBrowser>, path: string, state: string | null) {
    const row = state ? await stateRow(driver, state) : undefined;
    const agent = `sso-test-${randomToken(8)}`;
    const r = await b.fetch(path, { headers: { 'user-agent': agent } });
    expect(r.status).toBe(400);
    expect(await ssoCode(r)).toBe('state');
    // (A fresh browser gets the pre-session CSRF cookie for the page's language form, nothing else.)
    expect(setCookies(r).filter((c) => !c.startsWith('edgeport_pre='))).toEqual([]);
    if (state) expect(await stateRow(driver, state)).toEqual(row);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('browser_sessions').select('id_hash').where('user_agent', '=', agent).execute()).toEqual([]);
  }

  it('refuses a missing and an unknown state', async () => {
    const b = ssoBrowser(driver);
    await start(b);
    await refused(b, '/sso/uni/callback?code=c', null);
    await refused(b, `/sso/uni/callback?code=c&state=${randomToken()}`, null);
  });

  it('refuses an expired state', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b));
    const db = await dbFor(driver);
    await db.kysely
      .updateTable('sso_states')
      .set({ expires_at: Date.now() - 1 })
      .where('state_hash', '=', (await stateRow(driver, state))?.state_hash as string)
      .execute();
    await refused(b, `/sso/uni/callback?code=c&state=${state}`, state);
  });

  it('refuses a used state', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b));
    const db = await dbFor(driver);
    await db.kysely
      .updateTable('sso_states')
      .set({ used_at: Date.now() })
      .where('state_hash', '=', (await stateRow(driver, state))?.state_hash as string)
      .execute();
    await refused(b, `/sso/uni/callback?code=c&state=${state}`, state);
  });

  it('refuses a state started in another browser, with its own cookie or none', async () => {
    const victim = ssoBrowser(driver);
    const state = stateOf(await start(victim));
    const attacker = ssoBrowser(driver);
    await start(attacker);
    expect(attacker.cookies.get('edgeport_sso')).not.toBe(victim.cookies.get('edgeport_sso'));
    await refused(attacker, `/sso/uni/callback?code=c&state=${state}`, state);
    await refused(ssoBrowser(driver), `/sso/uni/callback?code=c&state=${state}`, state);
  });

  it('refuses a state started for another provider', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b, 'uni'));
    await refused(b, `/sso/other-idp/callback?code=c&state=${state}`, state);
  });

  it('answers 404 unknown_provider for a provider it does not know', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b));
    const r = await b.fetch(`/sso/nope/callback?code=c&state=${state}`);
    expect(r.status).toBe(404);
    expect(await ssoCode(r)).toBe('unknown_provider');
    expect((await stateRow(driver, state))?.used_at).toBeNull();
  });

  it('the provider sent an error back: 400 provider_error, the state used up, nothing else written', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b));
    const r = await b.fetch(`/sso/uni/callback?error=access_denied&error_description=cancelled&state=${state}`);
    expect(r.status).toBe(400);
    expect(await ssoCode(r)).toBe('provider_error');
    expect(b.cookies.has('edgeport_session')).toBe(false);
    expect((await stateRow(driver, state))?.used_at).toEqual(expect.any(Number));
    // Single use: the same callback again is a state error.
    await refused(b, `/sso/uni/callback?error=access_denied&state=${state}`, state);
  });

  it('a callback naming another issuer (RFC 9207 iss) is refused before the code is sent anywhere', async () => {
    const b = ssoBrowser(driver);
    const state = stateOf(await start(b));
    const r = await b.fetch(`/sso/uni/callback?code=c&state=${state}&iss=${encodeURIComponent('https://evil.example')}`);
    expect(r.status).toBe(400);
    expect(await ssoCode(r)).toBe('provider_error');
  });

  it('shows the explanation in the page language, the code the same in every language', async () => {
    const b = ssoBrowser(driver);
    b.cookies.set('L', 'nl');
    const r = await b.fetch(`/sso/uni/callback?code=c&state=${randomToken()}`);
    const html = await r.text();
    expect(html).toContain('<p id="sso-error" data-code="state" role="alert">Deze aanmeldpoging is niet geldig');
    expect(html).toContain('<a href="/login">Terug naar aanmelden</a>');
  });
});
