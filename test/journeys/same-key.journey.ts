import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/agent-process.ts';
import { recordJourney } from './support/figures.ts';
import { QuickStartWorld, WG } from './support/world.ts';

/**
 * The macOS and iOS eduVPN apps keep one WireGuard key per server. Such an app, on the quick
 * start's default profile, is authorized again without a successful /disconnect (its old
 * authorization forgotten or revoked on the device) and connects with the same key: it gets a
 * config (it used to get 409 "public_key is already in use"), the node carries the key once,
 * and the new config carries a ping.
 */

const w = new QuickStartWorld();

beforeAll(async () => {
  await w.open('same-key', false);
}, 600_000);

afterAll(async () => {
  recordJourney('an app authorizing again with its WireGuard key', w.times);
  await w.close();
}, 120_000);

describe('journey: an app that keeps its WireGuard key authorizes again without /disconnect', () => {
  it('connects with the same key under the new authorization; the node holds the key once and the tunnel carries a ping', async () => {
    const keys = await QuickStartWorld.keys();
    const first = await w.appToken();
    const one = await w.connect(first, { profile_id: 'default', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
    expect(one.status, one.body).toBe(200);
    const before = await w.wireguardUp(one.body, keys.privateKey);
    expect(await w.pings(before.gateway)).toBe(true);
    await before.down();

    // The app signs in again (a new authorization) and keeps its key; no /disconnect happened.
    const again = await w.appToken();
    const two = await w.connect(again, { profile_id: 'default', public_key: keys.publicKey, prefer_tcp: 'no' }, WG);
    expect(two.status, two.body).toBe(200);
    expect((await w.localPeers()).filter((k) => k === keys.publicKey)).toHaveLength(1);
    const after = await w.wireguardUp(two.body, keys.privateKey);
    expect(await w.pings(after.gateway)).toBe(true);

    // The old authorization holds nothing any more: its /disconnect does not take the new config away.
    expect(await w.disconnect(first)).toBe(204);
    expect(await w.pings(after.gateway)).toBe(true);
    // The new one's does.
    expect(await w.disconnect(again)).toBe(204);
    await until('the key gone from the node', 10_000, async () => !(await w.localPeers()).includes(keys.publicKey));
  }, 180_000);
});
