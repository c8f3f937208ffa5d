import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, type Driver } from './helpers.ts';
import { apiCall } from './oauth-helpers.ts';
import { appUser, directToken, provision, wgPublicKey } from './connect-helpers.ts';

const WG = 'application/x-wireguard-profile';

/**
 * The macOS and iOS apps keep one WireGuard key per server. When such an app authorizes again
 * without a successful /disconnect (the old authorization was revoked, expired, or the app was
 * reinstalled), its next /connect carries a key the old authorization still holds. Upstream
 * (3.x) removes that user's config with the same key first, then connects.
 */
describe.each(DRIVERS)('POST /api/v3/connect with a key the same user still holds (%s)', (driver: Driver) => {
  it("replaces the old authorization's config with that key and tells its node", async () => {
    const p = await provision(driver);
    const { browser } = await signedIn(driver);
    const user = await appUser(driver);
    const first = await directToken(driver, user);
    const again = await directToken(driver, user);
    const key = await wgPublicKey();
    expect((await apiCall(browser, first.token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: WG })).status).toBe(200);

    const r = await apiCall(browser, again.token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: WG });
    expect(r.status).toBe(200);
    const db = await dbFor(driver);
    const rows = await db.kysely.selectFrom('wg_peers').select(['authorization_id', 'public_key']).where('public_key', '=', key).execute();
    expect(rows).toEqual([{ authorization_id: again.authorizationId, public_key: key }]);
    // One open log entry for the key: the old one was closed when its config went.
    const log = await db.kysely.selectFrom('connection_log').select(['disconnected_at']).where('connection_id', '=', key).orderBy('connected_at').execute();
    expect(log).toHaveLength(2);
    expect(log[0]?.disconnected_at).not.toBeNull();
    expect(log[1]?.disconnected_at).toBeNull();
    // The node was told to drop the old peer before adding it again (in one delta).
    const deltas = (p.agent?.messages ?? []).flatMap((m) => (m.type === 'delta' ? m.changes : []));
    expect(deltas.filter((c) => c.op === 'peer_remove' && c.public_key === key)).toHaveLength(1);
    expect(deltas.filter((c) => c.op === 'peer_add' && c.peer.public_key === key)).toHaveLength(2);
  });

  it('refuses a key another user holds with 409 and changes nothing', async () => {
    const p = await provision(driver);
    const { browser } = await signedIn(driver);
    const owner = await directToken(driver, await appUser(driver));
    const other = await directToken(driver, await appUser(driver));
    const key = await wgPublicKey();
    expect((await apiCall(browser, owner.token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: WG })).status).toBe(200);
    const r = await apiCall(browser, other.token, 'POST', '/connect', { profile_id: p.profileId, public_key: key }, { accept: WG });
    expect(r.status).toBe(409);
    expect(await r.json()).toEqual({ error: 'this "public_key" is already in use' });
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('wg_peers').select('authorization_id').where('public_key', '=', key).execute()).toEqual([{ authorization_id: owner.authorizationId }]);
  });
});
