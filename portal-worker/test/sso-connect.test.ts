import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, makeUser, type Driver } from './helpers.ts';
import { apiCall } from './oauth-helpers.ts';
import { directToken, provision, wgPublicKey, type Provisioned } from './connect-helpers.ts';
import { makeSsoUser, ssoBrowser } from './sso-helpers.ts';

const WG = 'application/x-wireguard-profile';
const RECHECK = { SSO_RECHECK_ON_CONNECT: 'true', SSO_PERMISSIONS_MAX_AGE_MINUTES: '60' };
const HOUR = 3_600_000;

describe.each(DRIVERS)('SSO_RECHECK_ON_CONNECT on %s', (driver: Driver) => {
  let p: Provisioned;
  beforeAll(async () => {
    p = await provision(driver);
  });
  afterAll(() => p.agent?.close());

  /** An app's connect for `userId`; answers the response and the peer row it left (if any). */
  async function connect(userId: string, vars: Record<string, string>) {
    const { token } = await directToken(driver, userId);
    const key = await wgPublicKey();
    const r = await apiCall(ssoBrowser(driver, vars), token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: WG });
    const body = new TextDecoder().decode(await r.arrayBuffer());
    const db = await dbFor(driver);
    const rows = await db.kysely.selectFrom('wg_peers').select('public_key').where('public_key', '=', key).execute();
    return { status: r.status, body, placed: rows.length === 1 };
  }

  it('refuses an SSO user whose permissions are older than the limit: 403, nothing placed', async () => {
    const id = await makeSsoUser(driver, { permissionsAt: Date.now() - 2 * HOUR });
    const r = await connect(id, RECHECK);
    expect(r).toEqual({ status: 403, body: JSON.stringify({ error: 'your permissions are too old: sign in to the portal again' }), placed: false });
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', id).execute()).toEqual([]);
    expect(await db.kysely.selectFrom('connection_log').select('id').where('user_id', '=', id).execute()).toEqual([]);
  });

  it('refuses an SSO user without a date for the permissions', async () => {
    const id = await makeSsoUser(driver, { permissionsAt: null });
    expect((await connect(id, RECHECK)).status).toBe(403);
  });

  it('places a config for an SSO user whose permissions are fresh', async () => {
    const id = await makeSsoUser(driver, { permissionsAt: Date.now() - 30 * 60_000 });
    expect(await connect(id, RECHECK)).toMatchObject({ status: 200, placed: true });
  });

  it('the limit defaults to SESSION_MAX_MINUTES', async () => {
    const vars = { SSO_RECHECK_ON_CONNECT: 'true', SESSION_MAX_MINUTES: '120' };
    expect((await connect(await makeSsoUser(driver, { permissionsAt: Date.now() - 90 * 60_000 }), vars)).status).toBe(200);
    expect((await connect(await makeSsoUser(driver, { permissionsAt: Date.now() - 150 * 60_000 }), vars)).status).toBe(403);
  });

  it('with the recheck off (the default), old permissions still connect', async () => {
    const id = await makeSsoUser(driver, { permissionsAt: Date.now() - 48 * HOUR });
    expect(await connect(id, {})).toMatchObject({ status: 200, placed: true });
  });

  it('never applies to local users', async () => {
    expect(await connect(await makeUser(driver), RECHECK)).toMatchObject({ status: 200, placed: true });
  });
});
