import { describe, expect, it } from 'vitest';
import { PBKDF2_ITERATIONS, hashPassword, verifyPassword } from '../src/auth/password.ts';
import { Browser, PASSWORD, dbFor, makeUser, setCookies, signedIn, unique } from './helpers.ts';

describe('password hashing', () => {
  it('uses PBKDF2-SHA256 at the 100,000 iterations production Workers accept', async () => {
    // Local workerd accepts any count, production refuses more than 100k: this pin keeps them in step.
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    const hash = await hashPassword('a long enough secret');
    expect(hash).toMatch(/^pbkdf2-sha256\$100000\$[\w-]{22}\$[\w-]{43}$/);
    expect(await verifyPassword('a long enough secret', hash)).toBe(true);
    expect(await verifyPassword('a long enough secreT', hash)).toBe(false);
    expect(await hashPassword('a long enough secret')).not.toBe(hash);
  });
});

describe('login and logout', () => {
  it('signs in with the right password, sets an HttpOnly SameSite cookie, and signs out', async () => {
    const id = await makeUser('d1');
    const b = new Browser();
    const login = await b.login(id);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = setCookies(login).find((c) => c.startsWith('edgeport_session='));
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    expect(cookie).toMatch(/Path=\//);

    const home = await b.fetch('/');
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(id);

    const token = await b.csrf('/');
    const out = await b.form('/logout', { _csrf: token });
    expect(out.status).toBe(303);
    expect((await b.fetch('/')).status).toBe(302);
    // The row is gone, so replaying the old cookie does not bring the session back.
    const db = await dbFor('d1');
    const rows = await db.kysely.selectFrom('browser_sessions').select('id_hash').where('user_id', '=', id).execute();
    expect(rows).toHaveLength(0);
  });

  it('marks the cookie Secure and __Host- over https', async () => {
    const id = await makeUser('d1');
    const b = new Browser('d1', '198.51.100.7', 'https://portal.test');
    const r = await b.login(id);
    expect(r.status).toBe(303);
    const cookie = setCookies(r).find((c) => c.startsWith('__Host-edgeport_session='));
    expect(cookie).toMatch(/Secure/);
    expect(r.headers.get('strict-transport-security')).toContain('max-age=');
  });

  it('refuses a wrong password and an unknown user with the same message', async () => {
    const id = await makeUser('d1');
    const b = new Browser();
    const wrong = await b.login(id, 'not the password at all');
    const unknown = await b.login(unique('nobody'), PASSWORD);
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(await wrong.text()).toContain('Wrong user name or password');
    expect(await unknown.text()).toContain('Wrong user name or password');
    expect(b.cookies.has('edgeport_session')).toBe(false);
  });

  it('only redirects to same-site paths after login', async () => {
    const id = await makeUser('d1');
    const b = new Browser();
    const token = await b.csrf('/login');
    const r = await b.form('/login', { _csrf: token, user: id, password: PASSWORD, next: '//evil.example/x' });
    expect(r.headers.get('location')).toBe('/');
  });

  it('ends an expired session', async () => {
    const { browser, id } = await signedIn('d1');
    const db = await dbFor('d1');
    await db.kysely
      .updateTable('browser_sessions')
      .set({ expires_at: Date.now() - 1 })
      .where('user_id', '=', id)
      .execute();
    const r = await browser.fetch('/');
    expect(r.status).toBe(302);
    expect(r.headers.get('location')).toBe('/login?next=%2F');
  });
});

describe('CSRF', () => {
  it('rejects a form without a token, with a wrong token, and from another origin', async () => {
    const { browser } = await signedIn('d1', { admin: true });
    const missing = await browser.form('/logout', {});
    expect(missing.status).toBe(403);
    const wrong = await browser.form('/logout', { _csrf: 'A'.repeat(43) });
    expect(wrong.status).toBe(403);
    const token = await browser.csrf('/');
    const cross = await browser.fetch('/logout', {
      method: 'POST',
      headers: { origin: 'https://evil.example' },
      body: new URLSearchParams({ _csrf: token }),
    });
    expect(cross.status).toBe(403);
    // None of the rejected posts signed the user out.
    expect((await browser.fetch('/')).status).toBe(200);
  });

  it("does not accept another browser's token", async () => {
    const a = await signedIn('d1', { admin: true });
    const b = await signedIn('d1', { admin: true });
    const tokenOfA = await a.browser.csrf('/');
    const r = await b.browser.api('POST', '/admin/api/users', { id: unique('x'), password: 'long enough password' }, tokenOfA);
    expect(r.status).toBe(403);
    expect((await r.json<{ code: string }>()).code).toBe('csrf_failed');
  });

  it('protects the login form itself', async () => {
    const id = await makeUser('d1');
    const b = new Browser();
    const r = await b.form('/login', { user: id, password: PASSWORD });
    expect(r.status).toBe(403);
  });
});

describe('disabled users', () => {
  it('loses the session at once and cannot sign in again', async () => {
    const admin = await signedIn('d1', { admin: true });
    const user = await signedIn('d1');
    expect((await user.browser.fetch('/')).status).toBe(200);

    const r = await admin.browser.api('POST', `/admin/api/users/${user.id}/disable`);
    expect(r.status).toBe(200);
    expect((await r.json<{ isDisabled: boolean }>()).isDisabled).toBe(true);

    expect((await user.browser.fetch('/')).status).toBe(302);
    const again = await new Browser().login(user.id);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('disabled');
  });

  it('takes effect on the next request even for a session the disable did not delete', async () => {
    const user = await signedIn('d1');
    const db = await dbFor('d1');
    // Flip the flag alone: the session lookup itself must refuse a disabled user.
    await db.kysely.updateTable('users').set({ is_disabled: 1 }).where('id', '=', user.id).execute();
    expect((await user.browser.fetch('/')).status).toBe(302);
  });
});

describe('login throttling', () => {
  it('locks an account after 5 failures, even for the right password, and tells when to retry', async () => {
    const id = await makeUser('d1');
    for (let i = 0; i < 5; i++) {
      const r = await new Browser().login(id, `wrong password ${i}`);
      expect(r.status).toBe(401);
    }
    const blocked = await new Browser().login(id);
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Another account is not affected by this one's lock.
    const other = await makeUser('d1');
    expect((await new Browser().login(other)).status).toBe(303);
  });

  it('locks a client address after 20 failures across accounts', async () => {
    const ip = `203.0.113.${Math.floor(Math.random() * 250) + 1}`;
    for (let i = 0; i < 20; i++) {
      const r = await new Browser('d1', ip).login(unique('guess'), 'wrong password here');
      expect(r.status).toBe(401);
    }
    const victim = await makeUser('d1');
    expect((await new Browser('d1', ip).login(victim)).status).toBe(429);
    expect((await new Browser('d1', '192.0.2.99').login(victim)).status).toBe(303);
  });

  it('resets the account counter after a successful login', async () => {
    const id = await makeUser('d1');
    for (let i = 0; i < 4; i++) expect((await new Browser().login(id, 'wrong password here')).status).toBe(401);
    expect((await new Browser().login(id)).status).toBe(303);
    for (let i = 0; i < 4; i++) expect((await new Browser().login(id, 'wrong password here')).status).toBe(401);
    expect((await new Browser().login(id)).status).toBe(303);
  });
});
