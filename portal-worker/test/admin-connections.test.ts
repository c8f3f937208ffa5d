import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, type Driver } from './helpers.ts';
import type { Provisioned } from './connect-helpers.ts';
import { provisionOwn, deltas, eventually, rowStatus, userWithConfigs, type UserWithConfigs } from './admin-users-helpers.ts';
import { indexReport, liveStatus } from '../src/domain/live-status.ts';
import type { ConfigRow } from '../src/store/live-sessions.ts';
import { connectionSections } from '../src/views/admin-connections-model.ts';

/** This file's OpenVPN address lane (see provisionOwn). */
const LANE = 19;

/** What the agent's reporter sends (node-agent/src/reports.ts), for the given peer and client. */
function sessionsFrame(p: Provisioned, u: UserWithConfigs, at = Date.now()) {
  return {
    type: 'sessions',
    at,
    counts: [
      { profile_id: p.profileId, protocol: 'wireguard', count: 1 },
      { profile_id: p.profileId, protocol: 'openvpn', count: 1 },
    ],
    peers: [{ public_key: u.wgKey, last_handshake: at - 5_000, rx: 2048, tx: 4096 }],
    clients: [{ common_name: u.commonName, profile_id: p.profileId, ip_four: '172.20.0.9', ip_six: 'fd20::9', rx: 10, tx: 20, connected_since: at - 60_000 }],
  };
}

/** The HTML of one profile's section. */
function section(html: string, profileId: string): string {
  const start = html.indexOf(`data-profile="${profileId}"`);
  expect(start).toBeGreaterThan(-1);
  const end = html.indexOf('<section', start);
  return html.slice(start, end < 0 ? undefined : end);
}

const fragment = async (p: Provisioned) => {
  const r = await p.admin.fetch('/admin/connections', { headers: { 'x-fragment': '1' } });
  expect(r.status).toBe(200);
  return r.text();
};

describe.each(DRIVERS)('admin connections on %s', (driver: Driver) => {
  it('lists placed configurations per profile and node, with the live status of the node’s latest report', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);

    const page = await p.admin.fetch('/admin/connections');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Connections</h1>');
    expect(html).toContain('id="connections-live" data-live="/admin/connections" data-every="2000"');
    const mine = section(html, p.profileId);
    expect(mine).toContain('Employees');
    expect(mine).toContain(`data-node="${p.nodeId}"`);
    expect(mine).toContain('0 active / 2 placed');
    expect(mine).toContain('no report');
    expect(rowStatus(mine, u.wgKey)).toBe('unknown');
    expect(rowStatus(mine, u.commonName)).toBe('unknown');
    expect(mine).toContain(`<a href="/admin/users/${u.id}">${u.id}</a>`);
    expect(mine).toContain(`<td>${u.ipFour}</td>`);

    p.agent?.socket.send(sessionsFrame(p, u));
    const live = await eventually(async () => {
      const f = section(await fragment(p), p.profileId);
      expect(rowStatus(f, u.wgKey)).toBe('connected');
      return f;
    });
    expect(rowStatus(live, u.commonName)).toBe('connected');
    expect(live).toContain('2 active / 2 placed');
    expect(live).toContain('in 2.0 KiB · out 4.0 KiB');
    // OpenVPN addresses come from the report.
    expect(live).toContain('<td>172.20.0.9</td>');
    expect(live).toContain('connected since');
    // The fragment is the table alone, for the live region to swap in.
    const whole = await fragment(p);
    expect(whole).not.toContain('<html');
    expect(whole).not.toContain('<h1');
    expect(whole.trimStart().startsWith('<section')).toBe(true);

    // A later report without them: no longer connected.
    p.agent?.socket.send({ ...sessionsFrame(p, u), peers: [], clients: [] });
    await eventually(async () => expect(rowStatus(section(await fragment(p), p.profileId), u.wgKey)).toBe('offline'));
    p.agent?.close();
  });

  it('keeps the latest report in the node channel’s storage, so it outlives hibernation', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const frame = sessionsFrame(p, u);
    p.agent?.socket.send(frame);
    await eventually(async () => expect(rowStatus(section(await fragment(p), p.profileId), u.wgKey)).toBe('connected'));
    const stub = env.NODE_CHANNEL.get(env.NODE_CHANNEL.idFromName(p.nodeId));
    const restored = await runInDurableObject(stub, async (instance, state) => {
      expect(await state.storage.get('lastSessions')).toEqual({ at: frame.at, peers: frame.peers, clients: frame.clients });
      // What a woken object starts with: nothing in memory.
      (instance as unknown as { latestSessions: unknown }).latestSessions = null;
      return instance.lastSessions();
    });
    expect(restored).toEqual({ at: frame.at, peers: frame.peers, clients: frame.clients });
    p.agent?.close();
  });

  it('leaves expired configurations out', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const db = await dbFor(driver);
    await db.kysely
      .updateTable('certificates')
      .set({ expires_at: Date.now() - 1000 })
      .where('common_name', '=', u.commonName)
      .execute();
    const mine = section(await fragment(p), p.profileId);
    expect(rowStatus(mine, u.wgKey)).not.toBeNull();
    expect(rowStatus(mine, u.commonName)).toBeNull();
    expect(mine).toContain('0 active / 1 placed');
    // The user's page still lists it, marked.
    const detail = await (await p.admin.fetch(`/admin/users/${u.id}`)).text();
    expect(detail).toContain(`<tr data-config="${u.commonName}">`);
    expect(detail).toContain('<span class="badge bad">expired</span>');
    p.agent?.close();
  });

  it('shows "no report" for a node that never reported', async () => {
    const p = await provisionOwn(driver, LANE, false);
    const mine = section(await fragment(p), p.profileId);
    expect(mine).toContain('no report');
    expect(mine).toContain('No configurations on this node.');
  });

  it('kills one configuration: the row is gone, the node removes it, the rest stays', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const db = await dbFor(driver);
    const token = await p.admin.csrf('/admin/connections');

    const r = await p.admin.form('/admin/connections/kill', { _csrf: token, protocol: 'wireguard', key: u.wgKey });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin/connections');
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('public_key', '=', u.wgKey).execute()).toEqual([]);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('common_name', '=', u.commonName).execute()).toHaveLength(1);
    // The user keeps the app authorization; the log row of the peer is closed.
    expect(await db.kysely.selectFrom('oauth_authorizations').select('id').where('user_id', '=', u.id).execute()).toHaveLength(2);
    const logRow = await db.kysely.selectFrom('connection_log').select('disconnected_at').where('connection_id', '=', u.wgKey).executeTakeFirstOrThrow();
    expect(logRow.disconnected_at).not.toBeNull();
    await eventually(async () => expect(deltas(p.agent?.messages ?? [])).toContainEqual({ op: 'peer_remove', public_key: u.wgKey }));
    const after = section(await fragment(p), p.profileId);
    expect(rowStatus(after, u.wgKey)).toBeNull();
    expect(rowStatus(after, u.commonName)).not.toBeNull();

    expect((await p.admin.form('/admin/connections/kill', { _csrf: token, protocol: 'openvpn', key: u.commonName })).status).toBe(303);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('common_name', '=', u.commonName).execute()).toEqual([]);
    await eventually(async () => expect(deltas(p.agent?.messages ?? [])).toContainEqual({ op: 'cert_remove', common_name: u.commonName }));

    const audit = await db.kysely.selectFrom('audit_log').select(['target_id', 'before_json']).where('action', '=', 'connection.kill').where('target_id', 'in', [u.wgKey, u.commonName]).execute();
    expect(audit).toHaveLength(2);
    expect(JSON.parse(audit.find((a) => a.target_id === u.wgKey)?.before_json as string)).toMatchObject({ protocol: 'wireguard', user_id: u.id, node_id: p.nodeId, ip_four: u.ipFour });
    // Killing it again: it is gone.
    expect((await p.admin.form('/admin/connections/kill', { _csrf: token, protocol: 'wireguard', key: u.wgKey })).status).toBe(404);
    p.agent?.close();
  });

  it('refuses a bad kill with 400, or without a valid CSRF token with 403, and removes nothing', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const db = await dbFor(driver);
    const token = await p.admin.csrf('/admin/connections');
    const bad = await p.admin.form('/admin/connections/kill', { _csrf: token, protocol: 'ipsec', key: u.wgKey });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('<code>protocol</code>');
    expect(html).toContain('id="connections-live"');
    expect((await p.admin.form('/admin/connections/kill', { _csrf: token, protocol: 'wireguard' })).status).toBe(400);
    for (const fields of [{}, { _csrf: 'wrong' }] as Record<string, string>[])
      expect((await p.admin.form('/admin/connections/kill', { ...fields, protocol: 'wireguard', key: u.wgKey })).status).toBe(403);
    expect(await db.kysely.selectFrom('wg_peers').select('public_key').where('user_id', '=', u.id).execute()).toHaveLength(1);
    expect(await db.kysely.selectFrom('certificates').select('common_name').where('user_id', '=', u.id).execute()).toHaveLength(1);
    p.agent?.close();
  });

  it('is translated into Dutch', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    admin.cookies.set('L', 'nl');
    const html = await (await admin.fetch('/admin/connections')).text();
    expect(html).toContain('<h1>Verbindingen</h1>');
    expect(html).toContain('Wordt live bijgewerkt');
  });
});

describe('live status rule', () => {
  const now = Date.UTC(2030, 0, 1);
  const wg: ConfigRow = {
    protocol: 'wireguard',
    key: 'k',
    userId: 'u',
    profileId: 'p',
    nodeId: 'n',
    authorizationId: null,
    displayName: 'laptop',
    ipFour: '10.0.0.2',
    ipSix: 'fd00::2',
    createdAt: 0,
    expiresAt: now + 1,
  };
  const ovpn: ConfigRow = { ...wg, protocol: 'openvpn', key: 'cn', ipFour: null, ipSix: null };
  const report = (at: number, handshake: number | null) => ({
    at,
    peers: [{ public_key: 'k', last_handshake: handshake, rx: 1, tx: 2 }],
    clients: [{ common_name: 'cn', profile_id: 'p', ip_four: '10.1.0.2', ip_six: null, rx: 3, tx: 4, connected_since: at - 1000 }],
  });

  it('counts a WireGuard peer as connected while its handshake is within 180 s of the report', () => {
    expect(liveStatus(wg, indexReport(report(now, now - 180_000), now))).toMatchObject({ kind: 'connected', rx: 1, tx: 2 });
    expect(liveStatus(wg, indexReport(report(now, now - 180_001), now))).toMatchObject({ kind: 'idle', lastHandshake: now - 180_001 });
    expect(liveStatus(wg, indexReport(report(now, null), now))).toEqual({ kind: 'offline' });
    expect(liveStatus({ ...wg, key: 'other' }, indexReport(report(now, now), now))).toEqual({ kind: 'offline' });
  });

  it('takes OpenVPN clients from the report, and knows nothing from a missing or old report', () => {
    expect(liveStatus(ovpn, indexReport(report(now, now), now))).toEqual({ kind: 'connected', protocol: 'openvpn', since: now - 1000, ipFour: '10.1.0.2', ipSix: null, rx: 3, tx: 4 });
    expect(liveStatus(ovpn, indexReport(null, now))).toEqual({ kind: 'unknown' });
    expect(liveStatus(wg, indexReport(report(now - 180_001, now - 180_001), now))).toEqual({ kind: 'unknown' });
  });

  it('groups rows per profile and node, counting the active ones', () => {
    const skeleton = {
      profiles: [{ id: 'p', displayName: 'P' }],
      served: [
        { profileId: 'p', nodeId: 'n' },
        { profileId: 'p', nodeId: 'quiet' },
      ],
      nodes: [
        { id: 'n', name: 'North' },
        { id: 'quiet', name: 'Quiet' },
      ],
    };
    const reports = new Map([
      ['n', report(now, now)],
      ['quiet', null],
      ['old', report(now - 999_999, now - 999_999)],
    ]);
    const moved = { ...wg, key: 'moved', nodeId: 'old' };
    const [p] = connectionSections(skeleton, [wg, ovpn, moved], reports, now);
    expect(p?.nodes.map((n) => [n.name, n.report.kind, n.active, n.rows.length])).toEqual([
      ['North', 'fresh', 2, 2],
      // A node that still carries a config of the profile after its assignment changed is listed too.
      ['old', 'stale', 0, 1],
      ['Quiet', 'none', 0, 0],
    ]);
  });
});
