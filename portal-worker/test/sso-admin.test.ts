import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/config.ts';
import { ssoSignIn } from '../src/sso/sign-in.ts';
import { getUser } from '../src/store/users.ts';
import { DRIVERS, dbFor, envFor, makeUser, signedIn, unique, type Driver } from './helpers.ts';
import { SSO_VARS, ssoBrowser } from './sso-helpers.ts';

describe.each(DRIVERS)('SSO users in the admin console on %s', (driver: Driver) => {
  /** An SSO user signed in through the real sign-in command, with a browser holding its session. */
  async function ssoUser() {
    const id = unique('sso-admin');
    const uni = parseConfig(envFor(driver, SSO_VARS)).sso.providers[0];
    if (!uni) throw new Error('no provider');
    const r = await ssoSignIn(
      await dbFor(driver),
      uni,
      { userId: id, permissions: ['staff'], isAdmin: false, displayName: 'Sso Person' },
      { now: Date.now(), policy: { idleMs: 600_000, maxMs: 600_000 }, userAgent: null, requestId: 'test' },
    );
    if (!r.ok) throw new Error(r.message);
    const browser = ssoBrowser(driver);
    browser.cookies.set('edgeport_session', r.sessionSecret);
    return { id, browser };
  }

  it('lists them like any user, and the user page says where they sign in', async () => {
    const { id } = await ssoUser();
    const local = await makeUser(driver);
    const { browser: admin } = await signedIn(driver, { admin: true, vars: SSO_VARS });

    const list = await (await admin.fetch(`/admin/users?q=${encodeURIComponent(id)}`)).text();
    expect(list).toContain(`<tr data-user="${id}">`);
    expect(list).toContain('Sso Person');

    const page = await (await admin.fetch(`/admin/users/${encodeURIComponent(id)}`)).text();
    expect(page).toContain('<dd id="user-sign-in" data-provider="uni">University</dd>');
    expect(page).toContain('<dt>Permissions received</dt>');
    expect(page).toContain('<code class="perm">staff</code>');
    const localPage = await (await admin.fetch(`/admin/users/${encodeURIComponent(local)}`)).text();
    expect(localPage).toContain('<dd id="user-sign-in" data-provider="">local</dd>');
    expect(localPage).not.toContain('Permissions received');

    // What the admin JSON API lists for each user (not fetched: its first 500 may not reach this id in a busy run).
    expect(await getUser(await dbFor(driver), id)).toMatchObject({ id, authProvider: 'uni', hasLocalAccount: false, permissions: ['staff'], permissionsAt: expect.any(Number) });
  });

  it('a provider no longer configured shows its id', async () => {
    const { id } = await ssoUser();
    const { browser: admin } = await signedIn(driver, { admin: true });
    expect(await (await admin.fetch(`/admin/users/${encodeURIComponent(id)}`)).text()).toContain('<dd id="user-sign-in" data-provider="uni">uni</dd>');
  });

  it('can be disabled: the session ends at once', async () => {
    const { id, browser } = await ssoUser();
    expect((await browser.fetch('/')).status).toBe(200);
    const { browser: admin } = await signedIn(driver, { admin: true, vars: SSO_VARS });
    const token = await admin.csrf(`/admin/users/${encodeURIComponent(id)}`);
    const r = await admin.form(`/admin/users/${encodeURIComponent(id)}/disable`, { _csrf: token });
    expect(r.status).toBe(303);
    const db = await dbFor(driver);
    expect((await db.kysely.selectFrom('users').select('is_disabled').where('id', '=', id).executeTakeFirst())?.is_disabled).toBe(1);
    expect(await db.kysely.selectFrom('browser_sessions').select('id_hash').where('user_id', '=', id).execute()).toEqual([]);
    expect((await browser.fetch('/')).status).toBe(302);
    expect(await (await admin.fetch(`/admin/users/${encodeURIComponent(id)}`)).text()).toContain('id="user-enable"');
  });
});
