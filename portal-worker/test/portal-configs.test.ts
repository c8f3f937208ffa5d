import { describe, expect, it } from 'vitest';
import type { HubMessage } from '@edgeport/schema';
import { Browser, DRIVERS, dbFor, signedIn, type Driver } from './helpers.ts';
import { apiCall } from './oauth-helpers.ts';
import { directToken, provision, wgPublicKey } from './connect-helpers.ts';
import { createCa } from '../src/vpn/ca.ts';
import { wireguardPublicKey } from '../src/vpn/wireguard-keys.ts';

const DAY = 86_400_000;

function changes(messages: HubMessage[]) {
  return messages.flatMap((m) => (m.type === 'delta' ? m.changes : []));
}

function htmlUnescape(html: string): string {
  return html
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}

/** Pushes that are not awaited (removals) reach the test node a moment after the response. */
async function eventually(check: () => boolean, ms = 2000): Promise<boolean> {
  for (let waited = 0; waited < ms && !check(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return check();
}

async function create(b: Browser, fields: Record<string, string>, token?: string): Promise<Response> {
  return b.form('/configs', { _csrf: token ?? (await b.csrf('/')), ...fields });
}

describe.each(DRIVERS)('portal configurations on %s', (driver: Driver) => {
  it('makes a WireGuard config with its private key, a QR code and a download, placed on the node', async () => {
    const p = await provision(driver);
    const { browser, id } = await signedIn(driver);
    const before = Date.now();
    const r = await create(browser, { display_name: "Ann's router", profile: `${p.profileId}:wireguard` });
    const after = Date.now();
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const html = await r.text();
    expect(html).toContain('<svg id="wg-qr" role="img" aria-label="QR code of the WireGuard configuration');
    expect(html).toMatch(/<path d="M4 4h7v1h-7z[^"]*" fill="#000"/);
    expect(html).not.toMatch(/style=/);
    const config = htmlUnescape(html.match(/<textarea id="wg-config"[^>]*>([^<]*)<\/textarea>/)?.[1] ?? '');
    expect(config).toMatch(/^# Portal: http:\/\/portal\.test\/\n# Profile: Employees \(/);
    const privateKey = config.match(/^PrivateKey = (\S+)$/m)?.[1] as string;
    expect(config.indexOf('PrivateKey = ')).toBeGreaterThan(config.indexOf('[Interface]'));
    expect(config).toContain(`PublicKey = ${p.nodeKey}`);
    const net4 = p.wgRange.range_four.replace('.0/24', '');
    expect(config).toContain(`Address = ${net4}.2/24,`);

    // The download carries the same text as the page.
    const href = html.match(/<a id="wg-download" download="Ann_s_router.conf" href="data:text\/plain;charset=utf-8;base64,([^"]+)"/)?.[1] as string;
    expect(new TextDecoder().decode(Uint8Array.from(atob(href), (c) => c.charCodeAt(0)))).toBe(config);

    // The node learned the public key that belongs to the private key on the page (`wg pubkey`).
    const publicKey = (await wireguardPublicKey(privateKey)) as string;
    expect(changes(p.agent?.messages ?? [])).toContainEqual({ op: 'peer_add', peer: expect.objectContaining({ public_key: publicKey, profile_id: p.profileId, ip_four: `${net4}.2` }) });

    const db = await dbFor(driver);
    const row = await db.kysely.selectFrom('wg_peers').selectAll().where('public_key', '=', publicKey).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ user_id: id, authorization_id: null, display_name: "Ann's router", node_id: p.nodeId });
    expect(Number(row.expires_at)).toBeGreaterThanOrEqual(before + 90 * DAY);
    expect(Number(row.expires_at)).toBeLessThanOrEqual(after + 90 * DAY);
    // The private key is nowhere in the database.
    expect(JSON.stringify(row)).not.toContain(privateKey);
    const log = await db.kysely.selectFrom('connection_log').selectAll().where('connection_id', '=', publicKey).execute();
    expect(log).toMatchObject([{ user_id: id, vpn_proto: 'wireguard', disconnected_at: null }]);

    const home = await (await browser.fetch('/')).text();
    expect(home).toContain('<th scope="row">Ann&#39;s router</th>');
    expect(home).toContain('You have 1 of at most 3 configurations.');
  });

  it('never lets a config outlive the VPN CA', async () => {
    const p = await provision(driver);
    const notAfter = new Date(Date.now() + 10 * DAY);
    const ca = await createCa({ commonName: 'Short-lived CA', notAfter });
    const { browser, id } = await signedIn(driver, { vars: { VPN_CA_CERT: ca.certPem, VPN_CA_KEY: ca.keyPkcs8Pem } });
    expect((await create(browser, { display_name: 'x', profile: `${p.profileId}:wireguard` })).status).toBe(200);
    const db = await dbFor(driver);
    const row = await db.kysely.selectFrom('wg_peers').select('expires_at').where('user_id', '=', id).executeTakeFirstOrThrow();
    // X.509 keeps whole seconds.
    expect(Number(row.expires_at)).toBe(Math.floor(notAfter.getTime() / 1000) * 1000);
  });

  it('answers an OpenVPN config as a download named after server, profile, day and name', async () => {
    const p = await provision(driver);
    const { browser, id } = await signedIn(driver);
    const r = await create(browser, { display_name: 'Büro PC/2', profile: `${p.profileId}:openvpn`, prefer_tcp: 'yes' });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-openvpn-profile');
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    expect(r.headers.get('content-disposition')).toBe(`attachment; filename="portal.test_${p.profileId}_${day}_B_ro_PC_2.ovpn"`);
    const text = new TextDecoder().decode(await r.arrayBuffer());
    for (const part of ['<ca>', '<cert>', '<key>', '<tls-crypt>']) expect(text).toContain(part);
    expect(text.match(/^remote .*$/gm)).toEqual(['remote vpn.example.org 1194 tcp', 'remote vpn.example.org 1194 udp']);
    const db = await dbFor(driver);
    const rows = await db.kysely.selectFrom('certificates').selectAll().where('user_id', '=', id).execute();
    expect(rows).toMatchObject([{ authorization_id: null, display_name: 'Büro PC/2', profile_id: p.profileId }]);
    expect(changes(p.agent?.messages ?? [])).toContainEqual({ op: 'cert_add', certificate: expect.objectContaining({ common_name: rows[0]?.common_name }) });
  });

  it('refuses beyond the limit without evicting, and when portal downloads are off', async () => {
    const p = await provision(driver);
    const { browser, id } = await signedIn(driver, { vars: { MAX_ACTIVE_PORTAL_CONFIGS: '1' } });
    const db = await dbFor(driver);
    const count = async () => (await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).length;
    expect((await create(browser, { display_name: 'one', profile: `${p.profileId}:wireguard` })).status).toBe(200);
    const full = await create(browser, { display_name: 'two', profile: `${p.profileId}:wireguard` });
    expect(full.status).toBe(409);
    const html = await full.text();
    expect(html).toContain('id="alert-limit"');
    expect(html).toContain('Delete one you no longer need first.');
    expect(html).toContain('value="two"');
    expect(await count()).toBe(1);

    const off = await signedIn(driver, { vars: { MAX_ACTIVE_PORTAL_CONFIGS: '0' } });
    const refused = await create(off.browser, { display_name: 'x', profile: `${p.profileId}:wireguard` });
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('id="alert-disabled"');
    const home = await (await off.browser.fetch('/')).text();
    expect(home).toContain('id="configs-disabled"');
    expect(home).not.toContain('id="new-config"');
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', off.id).execute()).toEqual([]);
  });

  it('refuses bad input with 400 and writes nothing', async () => {
    const open = await provision(driver, { openvpn: null, preferred_proto: 'wireguard' });
    const closed = await provision(driver, { acl_permissions: ['staff'] });
    const { browser, id } = await signedIn(driver);
    const cases: [Record<string, string>, string][] = [
      [{ display_name: 'x', profile: `${closed.profileId}:wireguard` }, 'Choose one of the profiles in the list.'],
      [{ display_name: 'x', profile: 'nope:wireguard' }, 'Choose one of the profiles in the list.'],
      [{ display_name: 'x', profile: `${open.profileId}:openvpn` }, 'This profile does not offer that protocol.'],
      [{ display_name: 'x', profile: `${open.profileId}:ipsec` }, 'This profile does not offer that protocol.'],
      [{ display_name: ' ', profile: `${open.profileId}:wireguard` }, 'Enter a name of 1 to 64 characters.'],
      [{ display_name: 'x'.repeat(65), profile: `${open.profileId}:wireguard` }, 'Enter a name of 1 to 64 characters.'],
      [{ profile: `${open.profileId}:wireguard` }, 'Enter a name of 1 to 64 characters.'],
    ];
    const token = await browser.csrf('/');
    for (const [fields, message] of cases) {
      const r = await create(browser, fields, token);
      expect([JSON.stringify(fields), r.status]).toEqual([JSON.stringify(fields), 400]);
      expect(await r.text()).toContain(message);
    }
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).toEqual([]);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', id).execute()).toEqual([]);
    // The profile select offers only what each usable profile has.
    const home = await (await browser.fetch('/')).text();
    expect(home).toContain(`value="${open.profileId}:wireguard"`);
    expect(home).not.toContain(`value="${open.profileId}:openvpn"`);
    expect(home).not.toContain(closed.profileId);
  });

  it('answers 503 when no node of the profile is up, and writes nothing', async () => {
    const p = await provision(driver, {}, {}, false);
    const { browser, id } = await signedIn(driver);
    const r = await create(browser, { display_name: 'x', profile: `${p.profileId}:wireguard` });
    expect(r.status).toBe(503);
    expect(await r.text()).toContain('id="alert-unavailable"');
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).toEqual([]);
  });

  it('deletes only the user’s own portal configs and tells the node', async () => {
    const p = await provision(driver);
    const { browser, id } = await signedIn(driver);
    expect((await create(browser, { display_name: 'wg', profile: `${p.profileId}:wireguard` })).status).toBe(200);
    expect((await create(browser, { display_name: 'ovpn', profile: `${p.profileId}:openvpn` })).status).toBe(200);
    const db = await dbFor(driver);
    const peer = await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).executeTakeFirstOrThrow();
    const cert = await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', id).executeTakeFirstOrThrow();
    // The user's app config is not theirs to delete here.
    const app = await directToken(driver, id);
    const appKey = await wgPublicKey();
    expect((await apiCall(new Browser(driver), app.token, 'POST', '/connect', { profile_id: p.profileId, public_key: appKey }, { accept: 'application/x-wireguard-profile' })).status).toBe(200);

    const home = await (await browser.fetch('/')).text();
    expect(home).toContain('aria-label="Delete wg"');
    expect(home).toContain(`<input type="hidden" name="id" value="${cert.common_name}"/>`);
    const token = await browser.csrf('/');

    const other = await signedIn(driver);
    const stranger = await other.browser.form('/configs/delete', { _csrf: await other.browser.csrf('/'), kind: 'wireguard', id: peer.public_key });
    expect(stranger.status).toBe(404);
    expect((await browser.form('/configs/delete', { _csrf: token, kind: 'wireguard', id: appKey })).status).toBe(404);
    expect((await browser.form('/configs/delete', { _csrf: token, kind: 'openvpn', id: peer.public_key })).status).toBe(404);
    expect((await browser.form('/configs/delete', { _csrf: token, kind: 'bogus', id: peer.public_key })).status).toBe(404);
    expect((await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).length).toBe(2);

    const gone = await browser.form('/configs/delete', { _csrf: token, kind: 'wireguard', id: peer.public_key });
    expect([gone.status, gone.headers.get('location')]).toEqual([303, '/']);
    expect(await eventually(() => changes(p.agent?.messages ?? []).some((c) => c.op === 'peer_remove' && c.public_key === peer.public_key))).toBe(true);
    expect((await browser.form('/configs/delete', { _csrf: token, kind: 'openvpn', id: cert.common_name })).status).toBe(303);
    expect(await eventually(() => changes(p.agent?.messages ?? []).some((c) => c.op === 'cert_remove' && c.common_name === cert.common_name))).toBe(true);

    expect((await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).map((r) => r.public_key)).toEqual([appKey]);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', id).execute()).toEqual([]);
    const log = await db.kysely.selectFrom('connection_log').select('disconnected_at').where('connection_id', '=', peer.public_key).executeTakeFirstOrThrow();
    expect(log.disconnected_at).not.toBeNull();
  });

  it('refuses create and delete without the right CSRF token', async () => {
    const p = await provision(driver);
    const { browser, id } = await signedIn(driver);
    const fields = { display_name: 'x', profile: `${p.profileId}:wireguard` };
    expect((await browser.form('/configs', fields)).status).toBe(403);
    expect((await browser.form('/configs', { ...fields, _csrf: 'wrong' })).status).toBe(403);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).toEqual([]);
    expect((await create(browser, fields)).status).toBe(200);
    const peer = await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).executeTakeFirstOrThrow();
    expect((await browser.form('/configs/delete', { kind: 'wireguard', id: peer.public_key })).status).toBe(403);
    expect((await browser.form('/configs/delete', { _csrf: 'wrong', kind: 'wireguard', id: peer.public_key })).status).toBe(403);
    expect((await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', id).execute()).length).toBe(1);
    // Signed out: nothing to make a config for.
    expect((await new Browser(driver).form('/configs', fields)).status).toBe(401);
  });

  it('keeps portal configs out of the app limit, and app configs out of the portal limit', async () => {
    const p = await provision(driver, { openvpn: null, preferred_proto: 'wireguard' });
    const { browser, id } = await signedIn(driver, { vars: { MAX_ACTIVE_PORTAL_CONFIGS: '1' } });
    const api = new Browser(driver);
    for (let i = 0; i < 4; i++) {
      const t = await directToken(driver, id);
      expect((await apiCall(api, t.token, 'POST', '/connect', { profile_id: p.profileId, public_key: await wgPublicKey() }, { accept: 'application/x-wireguard-profile' })).status).toBe(200);
    }
    expect((await create(browser, { display_name: 'router', profile: `${p.profileId}:wireguard` })).status).toBe(200);
    const t = await directToken(driver, id);
    expect((await apiCall(api, t.token, 'POST', '/connect', { profile_id: p.profileId, public_key: await wgPublicKey() }, { accept: 'application/x-wireguard-profile' })).status).toBe(200);
    const db = await dbFor(driver);
    const rows = await db.kysely.selectFrom('wg_peers').select(['authorization_id', 'display_name']).where('user_id', '=', id).execute();
    expect(rows.filter((r) => r.authorization_id === null).map((r) => r.display_name)).toEqual(['router']);
    expect(rows.filter((r) => r.authorization_id !== null)).toHaveLength(3);
  });
});
