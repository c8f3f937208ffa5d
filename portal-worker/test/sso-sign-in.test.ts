import { describe, expect, it } from 'vitest';
import { parseList } from '../src/store/json.ts';
import type { OidcProvider } from '../src/config/sso.ts';
import { ssoSignIn, type SignInContext } from '../src/sso/sign-in.ts';
import { sha256Hex } from '../src/core/crypto.ts';
import { DRIVERS, dbFor, makeUser, unique, type Driver } from './helpers.ts';
import { makeSsoUser } from './sso-helpers.ts';

const uni: OidcProvider = {
  id: 'uni',
  name: 'University',
  issuer: 'https://idp.example.org',
  clientId: 'edgeport',
  clientSecret: 'x',
  scopes: ['openid'],
  userIdClaim: 'sub',
  permissionsClaim: 'groups',
  adminPermissions: ['vpn-admins'],
  userinfo: false,
  insecure: false,
};

const ctx = (now = Date.now()): SignInContext => ({ now, policy: { idleMs: 60_000, maxMs: 120_000 }, userAgent: 'sso-sign-in-test', requestId: 'test' });
const identity = (userId: string, permissions: string[] = ['staff'], displayName: string | null = 'Ann') => ({ userId, permissions, isAdmin: permissions.includes('vpn-admins'), displayName });

describe.each(DRIVERS)('after the provider vouched for the user, on %s', (driver: Driver) => {
  async function userRow(id: string) {
    return (await dbFor(driver)).kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }
  async function sessionsOf(id: string) {
    return (await dbFor(driver)).kysely.selectFrom('browser_sessions').select(['id_hash', 'expires_at']).where('user_id', '=', id).execute();
  }

  it('creates a user seen for the first time, without a local account, with a session', async () => {
    const id = unique('sso-new');
    const now = Date.now();
    const r = await ssoSignIn(await dbFor(driver), uni, identity(id, ['staff', 'vpn-admins']), ctx(now));
    expect(r.ok).toBe(true);
    expect(await userRow(id)).toMatchObject({ display_name: 'Ann', is_admin: 1, is_disabled: 0, auth_provider: 'uni', permissions_at: now, created_at: now, last_seen_at: now });
    expect(parseList((await userRow(id))?.permissions as string)).toEqual(['staff', 'vpn-admins']);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('local_accounts').select('user_id').where('user_id', '=', id).execute()).toEqual([]);
    expect(await sessionsOf(id)).toEqual([{ id_hash: await sha256Hex((r as { sessionSecret: string }).sessionSecret), expires_at: now + 60_000 }]);
    const audit = await db.kysely.selectFrom('audit_log').select(['action', 'after_json']).where('target_id', '=', id).execute();
    expect(audit).toEqual([{ action: 'user.create', after_json: expect.stringContaining('"auth_provider":"uni"') }]);
  });

  it("a returning user gets the provider's current permissions, role and name; no name claim keeps the name", async () => {
    const id = await makeSsoUser(driver, { permissions: ['staff', 'vpn-admins'], permissionsAt: 1 });
    const db = await dbFor(driver);
    await db.kysely.updateTable('users').set({ is_admin: 1 }).where('id', '=', id).execute();
    const now = Date.now();
    expect((await ssoSignIn(db, uni, identity(id, ['staff'], null), ctx(now))).ok).toBe(true);
    expect(await userRow(id)).toMatchObject({ display_name: `Person ${id}`, is_admin: 0, permissions: '["staff"]', permissions_at: now });
    // Losing the admin role is audited; signing in with unchanged permissions is not.
    expect((await ssoSignIn(db, uni, identity(id, ['staff'], 'New Name'), ctx())).ok).toBe(true);
    expect((await userRow(id))?.display_name).toBe('New Name');
    const audit = await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', id).execute();
    expect(audit).toEqual([{ action: 'user.sso_update' }]);
    expect(await sessionsOf(id)).toHaveLength(2);
  });

  it('refuses a local account of the same name, and leaves it alone', async () => {
    const id = await makeUser(driver, { permissions: ['local'] });
    const before = await userRow(id);
    expect(await ssoSignIn(await dbFor(driver), uni, identity(id, ['vpn-admins']), ctx())).toEqual({ ok: false, code: 'account_conflict', message: `user "${id}" belongs to a local account` });
    expect(await userRow(id)).toEqual(before);
    expect(await sessionsOf(id)).toEqual([]);
  });

  it('refuses a user another provider made', async () => {
    const id = await makeSsoUser(driver, { providerId: 'other-idp' });
    const before = await userRow(id);
    const r = await ssoSignIn(await dbFor(driver), uni, identity(id), ctx());
    expect(r).toMatchObject({ ok: false, code: 'account_conflict' });
    expect(await userRow(id)).toEqual(before);
    expect(await sessionsOf(id)).toEqual([]);
  });

  it('refuses a disabled user, changing nothing', async () => {
    const id = await makeSsoUser(driver, { permissions: ['staff'] });
    const db = await dbFor(driver);
    await db.kysely.updateTable('users').set({ is_disabled: 1 }).where('id', '=', id).execute();
    const before = await userRow(id);
    expect(await ssoSignIn(db, uni, identity(id, ['staff', 'vpn-admins']), ctx())).toMatchObject({ ok: false, code: 'disabled' });
    expect(await userRow(id)).toEqual(before);
    expect(await sessionsOf(id)).toEqual([]);
  });

  it('two first logins at once: one user, two sessions', async () => {
    const id = unique('sso-race');
    const db = await dbFor(driver);
    const both = await Promise.all([ssoSignIn(db, uni, identity(id), ctx()), ssoSignIn(db, uni, identity(id), ctx())]);
    expect(both.map((r) => r.ok)).toEqual([true, true]);
    expect(await sessionsOf(id)).toHaveLength(2);
    expect(await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', id).execute()).toEqual([{ action: 'user.create' }]);
  });
});
