import { expect } from 'vitest';
import type { Change, HubMessage } from '@edgeport/schema';
import { Browser, dbFor, type Driver } from './helpers.ts';
import { apiCall } from './oauth-helpers.ts';
import { appUser, directToken, provision, wgPublicKey, type Provisioned } from './connect-helpers.ts';

let block = Math.floor(Math.random() * 256);

/**
 * provision() with an OpenVPN range from a lane of its own: the default one has 250 choices
 * shared by every test file writing to the one MariaDB. Each of these files passes its own lane
 * (172.17, .18 or .19, which no other test uses) and counts through it, so no two collide.
 */
export function provisionOwn(driver: Driver, lane: 17 | 18 | 19, agent = true): Promise<Provisioned> {
  const n = (block = (block + 1) % 256);
  const openvpn = { range_four: `172.${lane}.${n}.0/24`, range_six: `fd21:${lane}:${n.toString(16)}::/64`, udp_ports: [1194], tcp_ports: [1194] };
  return provision(driver, { openvpn }, {}, agent);
}

export interface UserWithConfigs {
  id: string;
  wgKey: string;
  ipFour: string;
  commonName: string;
  authorizations: string[];
}

/** A user with two app authorizations: one holds a WireGuard config, the other an OpenVPN one, both placed through /connect. */
export async function userWithConfigs(driver: Driver, p: Provisioned): Promise<UserWithConfigs> {
  const id = await appUser(driver);
  const app = new Browser(driver);
  const wg = await directToken(driver, id, 'org.eduvpn.app.linux');
  const wgKey = await wgPublicKey();
  const r1 = await apiCall(app, wg.token, 'POST', '/connect', { profile_id: p.profileId, public_key: wgKey }, { accept: 'application/x-wireguard-profile' });
  expect(r1.status).toBe(200);
  await r1.arrayBuffer();
  const ovpn = await directToken(driver, id, 'org.eduvpn.app.android');
  const r2 = await apiCall(app, ovpn.token, 'POST', '/connect', { profile_id: p.profileId }, { accept: 'application/x-openvpn-profile' });
  expect(r2.status).toBe(200);
  await r2.arrayBuffer();
  const db = await dbFor(driver);
  const peer = await db.kysely.selectFrom('wg_peers').select('ip_four').where('public_key', '=', wgKey).executeTakeFirstOrThrow();
  const cert = await db.kysely.selectFrom('certificates').select('common_name').where('authorization_id', '=', ovpn.authorizationId).executeTakeFirstOrThrow();
  return { id, wgKey, ipFour: peer.ip_four, commonName: cert.common_name, authorizations: [wg.authorizationId, ovpn.authorizationId] };
}

export function deltas(messages: readonly HubMessage[]): Change[] {
  return messages.flatMap((m) => (m.type === 'delta' ? m.changes : []));
}

/** Polls until `check` passes (node frames and pushes arrive asynchronously). */
export async function eventually<T>(check: () => Promise<T>, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > until) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

export function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** The `data-status` of the row of one configuration on a connections page, or null if it is not listed. */
export function rowStatus(html: string, key: string): string | null {
  return new RegExp(`<tr data-config="${escapeRe(key)}"[^>]*data-status="(\\w+)"`).exec(html)?.[1] ?? null;
}

/** Rows of tables the store writes, for "nothing changed" checks. */
export async function userFootprint(driver: Driver, id: string) {
  const db = await dbFor(driver);
  const count = async (table: 'wg_peers' | 'certificates' | 'oauth_authorizations' | 'browser_sessions' | 'local_accounts' | 'connection_log') =>
    Number(
      (
        await db.kysely
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('user_id', '=', id)
          .executeTakeFirstOrThrow()
      ).n,
    );
  const user = await db.kysely.selectFrom('users').select(['id', 'is_disabled']).where('id', '=', id).executeTakeFirst();
  return {
    user: user ? { id: user.id, is_disabled: Number(user.is_disabled) } : null,
    wg_peers: await count('wg_peers'),
    certificates: await count('certificates'),
    oauth_authorizations: await count('oauth_authorizations'),
    browser_sessions: await count('browser_sessions'),
    local_accounts: await count('local_accounts'),
    connection_log: await count('connection_log'),
  };
}
