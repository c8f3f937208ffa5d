import { describe, expect, it } from 'vitest';
import { Browser, DRIVERS, dbFor, signedIn, type Driver } from './helpers.ts';
import { apiCall, appTokens } from './oauth-helpers.ts';
import { appUser, directToken, provision, wgPublicKey } from './connect-helpers.ts';

const WG = 'application/x-wireguard-profile';
const OVPN = 'application/x-openvpn-profile';

/** Config bodies are not text/*, so read them as bytes (workerd warns on .text()). */
async function textOf(r: Response): Promise<string> {
  return new TextDecoder().decode(await r.arrayBuffer());
}

function connect(b: Browser, token: string, fields: Record<string, string>, accept?: string) {
  return apiCall(b, token, 'POST', '/connect', fields, accept ? { accept } : {});
}

describe('POST /api/v3/connect', () => {
  it('hands out a WireGuard config without a private key, with the authorization expiry', async () => {
    const p = await provision('d1');
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const key = await wgPublicKey();
    const r = await connect(browser, tokens.access_token, { profile_id: p.profileId, public_key: key, prefer_tcp: 'no' }, `${WG}, application/x-wireguard+tcp-profile`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(WG);
    const expires = Date.parse(r.headers.get('expires') as string);
    expect(expires - Date.now()).toBeGreaterThan(89 * 86_400_000);
    expect(r.headers.get('expires')).toMatch(/^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const text = await textOf(r);
    const net4 = p.wgRange.range_four.replace('.0/24', '');
    expect(text).toContain(`Address = ${net4}.2/24,${p.wgRange.range_six.replace('::/64', '::2')}/64`);
    expect(text).toContain(`PublicKey = ${p.nodeKey}`);
    // The node carries the profile's own ranges, so clients use the profile's host name.
    expect(text).toContain('Endpoint = vpn.example.org:51820');
    expect(text).toContain('AllowedIPs = 0.0.0.0/0,::/0');
    expect(text).not.toContain('PrivateKey');
    const db = await dbFor('d1');
    const rows = await db.kysely.selectFrom('wg_peers').selectAll().where('public_key', '=', key).execute();
    expect(rows).toMatchObject([{ profile_id: p.profileId, node_id: p.nodeId, ip_four: `${net4}.2` }]);
  });

  it('replaces the previous config of the same authorization, and disconnect releases the address', async () => {
    const p = await provision('d1');
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const [k1, k2] = [await wgPublicKey(), await wgPublicKey()];
    expect((await connect(browser, tokens.access_token, { profile_id: p.profileId, public_key: k1 }, WG)).status).toBe(200);
    const second = await textOf(await connect(browser, tokens.access_token, { profile_id: p.profileId, public_key: k2 }, WG));
    expect(second).toContain(`${p.wgRange.range_four.replace('.0/24', '')}.2/24`);
    const db = await dbFor('d1');
    const keys = (await db.kysely.selectFrom('wg_peers').select('public_key').where('profile_id', '=', p.profileId).execute()).map((r) => r.public_key);
    expect(keys).toEqual([k2]);

    const d = await apiCall(browser, tokens.access_token, 'POST', '/disconnect');
    expect(d.status).toBe(204);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('profile_id', '=', p.profileId).execute()).toEqual([]);
    // The released address is the first one handed out again, to anyone.
    const other = await directToken('d1', await appUser('d1'));
    const next = await textOf(await connect(browser, other.token, { profile_id: p.profileId, public_key: await wgPublicKey() }, WG));
    expect(next).toContain(`${p.wgRange.range_four.replace('.0/24', '')}.2/24`);
  });

  it('issues an OpenVPN config with the CA, a client certificate and tls-crypt key', async () => {
    const p = await provision('d1');
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const r = await connect(browser, tokens.access_token, { profile_id: p.profileId, prefer_tcp: 'yes' }, OVPN);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(OVPN);
    const text = await textOf(r);
    for (const part of ['<ca>', '<cert>', '<key>', '<tls-crypt>', 'tls-version-min 1.3', 'data-ciphers AES-256-GCM:CHACHA20-POLY1305']) expect(text).toContain(part);
    // prefer_tcp puts the TCP remote first.
    expect(text.match(/^remote .*$/gm)).toEqual(['remote vpn.example.org 1194 tcp', 'remote vpn.example.org 1194 udp']);
    const db = await dbFor('d1');
    const certs = await db.kysely.selectFrom('certificates').selectAll().where('user_id', '=', id).execute();
    expect(certs).toHaveLength(1);
    expect(certs[0]).toMatchObject({ profile_id: p.profileId, node_id: p.nodeId });
    // The same profile keeps one tls-crypt key for every client.
    const again = await textOf(await connect(browser, tokens.access_token, { profile_id: p.profileId }, OVPN));
    const tls = (t: string) => t.slice(t.indexOf('<tls-crypt>'), t.indexOf('</tls-crypt>'));
    expect(tls(again)).toBe(tls(text));
  });

  it('selects the protocol as upstream does', async () => {
    const p = await provision('d1');
    const wgFirst = await provision('d1', { preferred_proto: 'wireguard' });
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const type = async (profile: string, fields: Record<string, string>, accept?: string) =>
      (await connect(browser, tokens.access_token, { profile_id: profile, ...fields }, accept)).headers.get('content-type');
    const key = await wgPublicKey();
    // Both enabled: the profile's preferred protocol (default OpenVPN) ...
    expect(await type(p.profileId, { public_key: key }, `${WG}, ${OVPN}`)).toBe(OVPN);
    expect(await type(wgFirst.profileId, { public_key: await wgPublicKey() })).toBe(WG);
    // ... unless TCP is preferred and the profile has TCP ports.
    expect(await type(wgFirst.profileId, { public_key: await wgPublicKey(), prefer_tcp: 'yes' })).toBe(OVPN);
    // Without a public key WireGuard is not possible.
    expect(await type(wgFirst.profileId, {})).toBe(OVPN);
    // Unknown Accept types are ignored: "both".
    expect(await type(wgFirst.profileId, { public_key: await wgPublicKey() }, 'text/html')).toBe(WG);
  });

  it('answers every row of the upstream error table', async () => {
    const p = await provision('d1');
    const wgOnly = await provision('d1', { openvpn: null, preferred_proto: 'wireguard' });
    const closed = await provision('d1', { acl_permissions: ['admins'] });
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const cases: [Record<string, string>, string | undefined, number, string][] = [
      [{ profile_id: 'nope' }, undefined, 404, 'no such "profile_id"'],
      [{ profile_id: closed.profileId }, undefined, 404, 'no such "profile_id"'],
      [{ profile_id: 'Bad Id!' }, undefined, 400, 'invalid value for "profile_id"'],
      [{}, undefined, 400, 'invalid value for "profile_id"'],
      [{ profile_id: p.profileId, prefer_tcp: 'maybe' }, undefined, 400, 'invalid "prefer_tcp"'],
      [{ profile_id: p.profileId, public_key: 'abc' }, undefined, 400, 'invalid "public_key"'],
      [{ profile_id: wgOnly.profileId }, WG, 400, 'missing "public_key" parameter'],
      [{ profile_id: wgOnly.profileId }, OVPN, 406, 'no common VPN protocol support between client and server profile'],
    ];
    for (const [fields, accept, status, error] of cases) {
      const r = await connect(browser, tokens.access_token, fields, accept);
      expect([JSON.stringify(fields), r.status, await r.json()]).toEqual([JSON.stringify(fields), status, { error }]);
    }
    const { browser: b0 } = await signedIn('d1', { vars: { MAX_ACTIVE_API_CONFIGS: '0' } });
    const t0 = await appTokens(b0);
    const none = await connect(b0, t0.access_token, { profile_id: p.profileId });
    expect([none.status, await none.json()]).toEqual([403, { error: 'no API configuration downloads allowed' }]);
    // The legacy tcp_only alias is still understood.
    expect((await connect(browser, tokens.access_token, { profile_id: p.profileId, tcp_only: 'on' }, OVPN)).status).toBe(200);
  });

  it('evicts the oldest app configuration beyond three per user', async () => {
    const p = await provision('d1');
    const user = await appUser('d1');
    const browser = new Browser();
    const auths = [];
    for (let i = 0; i < 4; i++) {
      const t = await directToken('d1', user);
      auths.push(t);
      expect((await connect(browser, t.token, { profile_id: p.profileId, public_key: await wgPublicKey() }, WG)).status).toBe(200);
    }
    const db = await dbFor('d1');
    const held = (await db.kysely.selectFrom('wg_peers').select('authorization_id').where('user_id', '=', user).execute()).map((r) => r.authorization_id).sort();
    expect(held).toEqual(
      auths
        .slice(1)
        .map((a) => a.authorizationId)
        .sort(),
    );
  });

  it('removes configs when the user revokes the app or is disabled', async () => {
    const p = await provision('d1');
    const { browser, id } = await signedIn('d1');
    const tokens = await appTokens(browser);
    expect((await connect(browser, tokens.access_token, { profile_id: p.profileId }, OVPN)).status).toBe(200);
    const db = await dbFor('d1');
    const count = async () => (await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', id).execute()).length;
    expect(await count()).toBe(1);
    const page = await (await browser.fetch('/account')).text();
    const action = page.match(/action="(\/account\/authorizations\/[^"]+\/revoke)"/)?.[1] as string;
    await browser.form(action, { _csrf: page.match(/name="_csrf" value="([^"]+)"/)?.[1] as string });
    expect(await count()).toBe(0);

    const t2 = await appTokens(browser);
    expect((await connect(browser, t2.access_token, { profile_id: p.profileId, public_key: await wgPublicKey() }, WG)).status).toBe(200);
    expect((await p.admin.api('POST', `/admin/api/users/${id}/disable`)).status).toBe(200);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).toEqual([]);
    expect(await db.kysely.selectFrom('oauth_authorizations').select('id').where('user_id', '=', id).execute()).toEqual([]);
  });

  it('answers 503 when no node serves the profile, and writes nothing', async () => {
    const { browser: admin } = await signedIn('d1', { admin: true });
    const body = {
      id: `lonely${Date.now().toString(36)}`,
      display_name: 'Lonely',
      host_name: 'vpn.example.org',
      wireguard: { range_four: `10.250.${Math.floor(Math.random() * 250)}.0/24`, range_six: `fd99:${Math.floor(Math.random() * 9999).toString(16)}::/64` },
    };
    expect((await admin.api('POST', '/admin/api/profiles', body)).status).toBe(201);
    const { browser } = await signedIn('d1');
    const tokens = await appTokens(browser);
    const r = await connect(browser, tokens.access_token, { profile_id: body.id, public_key: await wgPublicKey() }, WG);
    expect(r.status).toBe(503);
    const db = await dbFor('d1');
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('profile_id', '=', body.id).execute()).toEqual([]);
  });
});

describe.each(DRIVERS)('concurrent connects on %s', (driver: Driver) => {
  it('never share an address', async () => {
    const p = await provision(driver, { openvpn: null, preferred_proto: 'wireguard' });
    const browser = new Browser(driver);
    const N = 40;
    // Distinct users, so the three-per-user limit does not evict anything here.
    const tokens = await Promise.all(Array.from({ length: N }, async () => (await directToken(driver, await appUser(driver))).token));
    const keys = await Promise.all(tokens.map(() => wgPublicKey()));
    const responses = await Promise.all(tokens.map((t, i) => connect(browser, t, { profile_id: p.profileId, public_key: keys[i] as string }, WG)));
    const bodies = await Promise.all(responses.map(async (r) => [r.status, await textOf(r)] as const));
    expect(bodies.filter(([s]) => s !== 200).map(([s, t]) => `${s} ${t}`)).toEqual([]);
    const addresses = bodies.map(([, t]) => t.match(/^Address = ([\d.]+)\//m)?.[1]);
    expect(new Set(addresses).size).toBe(N);
    const net = p.wgRange.range_four.replace('.0/24', '');
    // Contenders spread out (how far depends on how often they collide, so on load); all stay in range.
    expect(addresses.every((a) => a?.startsWith(`${net}.`))).toBe(true);
    const db = await dbFor(driver);
    const rows = await db.kysely.selectFrom('wg_peers').select(['ip_four', 'ip_six']).where('profile_id', '=', p.profileId).execute();
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.ip_six)).size).toBe(N);
  });
});
