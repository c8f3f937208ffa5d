import { describe, expect, it } from 'vitest';
import { createSession } from '../src/store/sessions.ts';
import { Browser, DRIVERS, PASSWORD, dbFor, signedIn, unique, type Driver } from './helpers.ts';
import { appTokens } from './oauth-helpers.ts';
import { provision } from './connect-helpers.ts';

const NEW_PASSWORD = 'a brand new passphrase 42';

async function change(b: Browser, fields: Record<string, string>, token?: string): Promise<Response> {
  return b.form('/account/password', { _csrf: token ?? (await b.csrf('/account/password')), ...fields });
}

describe.each(DRIVERS)('account pages on %s', (driver: Driver) => {
  it('shows who the user is, what they may use, their apps, and the password link', async () => {
    const open = await provision(driver, {}, {}, false);
    const closed = await provision(driver, { acl_permissions: ['staff'] }, {}, false);
    const { browser, id } = await signedIn(driver, { permissions: ['students', 'https://eduvpn.org/expiry#P30D'] });
    await appTokens(browser);
    const r = await browser.fetch('/account');
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain(`<code id="account-user-id">${id}</code>`);
    expect(html).toContain('<code>students</code>');
    expect(html).toContain('<code>https://eduvpn.org/expiry#P30D</code>');
    expect(html).toContain(`<code>${open.profileId}</code>`);
    expect(html).not.toContain(closed.profileId);
    expect(html).toContain('aria-label="Revoke eduVPN for Linux"');
    expect(html).toContain('<a href="/account/password" id="change-password">');

    // In Dutch, every heading and label follows.
    browser.cookies.set('L', 'nl');
    const nl = await (await browser.fetch('/account')).text();
    for (const text of ['Gebruikers-id', 'Rechten', 'Beschikbare profielen', 'Geautoriseerde applicaties', 'Intrekken', 'Wachtwoord wijzigen']) expect(nl).toContain(text);
    const home = await (await browser.fetch('/')).text();
    for (const text of ['Uw VPN-profielen', 'Nieuwe configuratie voor een apparaat zonder de app', 'Profiel en protocol', 'Uw configuraties']) expect(home).toContain(text);
  });

  it('changes the password: the old one stops working, the new one works, other sessions end', async () => {
    const { browser, id } = await signedIn(driver);
    const other = new Browser(driver);
    expect((await other.login(id)).status).toBe(303);
    const r = await change(browser, { current_password: PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD });
    expect([r.status, r.headers.get('location')]).toEqual([303, '/account?changed=password']);
    // This browser stays signed in and is told; the other one is signed out.
    const account = await browser.fetch('/account?changed=password');
    expect(account.status).toBe(200);
    expect(await account.text()).toContain('id="password-changed"');
    expect((await other.fetch('/')).status).toBe(302);

    expect((await new Browser(driver).login(id, PASSWORD)).status).toBe(401);
    expect((await new Browser(driver).login(id, NEW_PASSWORD)).status).toBe(303);

    const db = await dbFor(driver);
    const audit = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'user.password_change').where('target_id', '=', id).execute();
    expect(audit).toMatchObject([{ actor_user_id: id, target_type: 'user', before_json: null, after_json: null }]);
  });

  it('refuses a wrong current password, a mismatch and a short password with 400, changing nothing', async () => {
    const { browser, id } = await signedIn(driver);
    const token = await browser.csrf('/account/password');
    const cases: [Record<string, string>, string][] = [
      [{ current_password: 'not my password', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }, 'The current password is wrong.'],
      [{ current_password: PASSWORD, new_password: NEW_PASSWORD, repeat_password: `${NEW_PASSWORD}!` }, 'The two new passwords differ.'],
      [{ current_password: PASSWORD, new_password: 'short', repeat_password: 'short' }, 'The new password must be at least 12 characters long.'],
      [{ current_password: PASSWORD, new_password: 'x'.repeat(1025), repeat_password: 'x'.repeat(1025) }, 'The new password must be at most 1024 characters long.'],
      [{ current_password: '', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }, 'Fill in every field.'],
    ];
    for (const [fields, message] of cases) {
      const r = await change(browser, fields, token);
      expect([message, r.status]).toEqual([message, 400]);
      expect(await r.text()).toContain(message);
    }
    expect((await new Browser(driver).login(id, PASSWORD)).status).toBe(303);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('audit_log').select('id').where('action', '=', 'user.password_change').where('target_id', '=', id).execute()).toEqual([]);
  });

  it('counts wrong current passwords as failed logins', async () => {
    const vars = { LOGIN_MAX_FAILURES_ACCOUNT: '2' };
    const { browser, id } = await signedIn(driver, { vars });
    const token = await browser.csrf('/account/password');
    const wrong = { current_password: 'guess', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };
    expect((await change(browser, wrong, token)).status).toBe(400);
    expect((await change(browser, wrong, token)).status).toBe(400);
    // Throttled now, even with the right password, here and at the login form.
    const throttled = await change(browser, { ...wrong, current_password: PASSWORD }, token);
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await new Browser(driver, undefined, undefined, vars).login(id)).status).toBe(429);
  });

  it('refuses without the right CSRF token', async () => {
    const { browser, id } = await signedIn(driver);
    const fields = { current_password: PASSWORD, new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD };
    expect((await browser.form('/account/password', fields)).status).toBe(403);
    expect((await browser.form('/account/password', { ...fields, _csrf: 'wrong' })).status).toBe(403);
    expect((await new Browser(driver).login(id, PASSWORD)).status).toBe(303);
  });

  it('has no password page for an account without a local password', async () => {
    const db = await dbFor(driver);
    const id = unique('sso');
    const now = Date.now();
    await db.kysely.insertInto('users').values({ id, display_name: 'Federated', is_admin: 0, is_disabled: 0, permissions: '[]', created_at: now, last_seen_at: null }).execute();
    const secret = await createSession(db, id, now, { idleMs: 60_000, maxMs: 60_000 }, null);
    const browser = new Browser(driver);
    browser.cookies.set('edgeport_session', secret);
    const account = await browser.fetch('/account');
    expect(account.status).toBe(200);
    expect(await account.text()).not.toContain('id="change-password"');
    expect((await browser.fetch('/account/password')).status).toBe(404);
    const token = await browser.csrf('/account');
    expect((await change(browser, { current_password: 'x', new_password: NEW_PASSWORD, repeat_password: NEW_PASSWORD }, token)).status).toBe(404);
  });
});
