import { describe, expect, it } from 'vitest';
import { Browser, DRIVERS, PASSWORD, dbFor, signedIn, unique, type Driver } from './helpers.ts';
import { provisionOwn, deltas, eventually, rowStatus, userFootprint, userWithConfigs } from './admin-users-helpers.ts';

/** This file's OpenVPN address lane (see provisionOwn). */
const LANE = 18;

describe.each(DRIVERS)('admin user page on %s', (driver: Driver) => {
  it('shows the account, its configurations, apps and recent connections', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const db = await dbFor(driver);
    const t0 = Date.UTC(2030, 0, 2, 3, 4);
    await db.kysely
      .insertInto('connection_log')
      .values({
        user_id: u.id,
        profile_id: p.profileId,
        node_id: p.nodeId,
        vpn_proto: 'openvpn',
        connection_id: u.commonName,
        ip_four: '172.20.9.9',
        ip_six: 'fd20::9',
        originating_ip: null,
        connected_at: t0,
        disconnected_at: t0 + 60_000,
        bytes_in: 2048,
        bytes_out: 3 * 1024 * 1024,
      })
      .execute();
    await db.kysely.updateTable('users').set({ display_name: 'Ada Lovelace', permissions: '["staff","vpn"]' }).where('id', '=', u.id).execute();

    const r = await p.admin.fetch(`/admin/users/${encodeURIComponent(u.id)}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    expect(html).toContain(`<h1>User ${u.id}</h1>`);
    expect(html).toContain('Ada Lovelace');
    expect(html).toContain('<code class="perm">staff</code>');
    // Both configurations, with the node, profile, app and (for WireGuard) the addresses.
    const configs = html.slice(html.indexOf('id="user-configs"'), html.indexOf('</table>', html.indexOf('id="user-configs"')));
    expect(configs).toContain(`<tr data-config="${u.wgKey}">`);
    expect(configs).toContain(`<tr data-config="${u.commonName}">`);
    expect(configs).toContain(`<td>${u.ipFour}</td>`);
    expect(configs).toContain('WireGuard');
    expect(configs).toContain('OpenVPN');
    expect(configs).toContain('<td>Employees</td>');
    expect(configs).toContain(`<td>${p.nodeId}</td>`);
    expect(configs).toContain('org.eduvpn.app.linux');
    const apps = html.slice(html.indexOf('id="user-apps"'), html.indexOf('</table>', html.indexOf('id="user-apps"')));
    expect(apps).toContain('<code>org.eduvpn.app.linux</code>');
    expect(apps).toContain('<code>org.eduvpn.app.android</code>');
    const log = html.slice(html.indexOf('id="user-connections"'), html.indexOf('</table>', html.indexOf('id="user-connections"')));
    expect(log).toContain('<td>172.20.9.9</td>');
    expect(log).toContain('2030-01-02 03:04');
    expect(log).toContain('2030-01-02 03:05');
    expect(log).toContain('in 2.0 KiB · out 3.0 MiB');
    // The WireGuard config's own log row, still open.
    expect(log).toContain(`<td>${u.ipFour}</td>`);
    expect(log).toContain('still open');
    expect(html).toContain('id="user-disable"');
    expect(html).toContain('id="user-delete"');
    expect(html).toContain('data-confirm=');
    p.agent?.close();
  });

  it('answers 404 for an unknown user, on the page and every action', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const token = await admin.csrf('/admin/users');
    const nobody = encodeURIComponent(unique('nobody'));
    expect((await admin.fetch(`/admin/users/${nobody}`)).status).toBe(404);
    for (const action of ['disable', 'enable', 'delete']) expect((await admin.form(`/admin/users/${nobody}/${action}`, { _csrf: token })).status).toBe(404);
  });

  it('disables a user: configs and apps gone, the node told, the connections page no longer lists them; then enables', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const before = await (await p.admin.fetch('/admin/connections')).text();
    expect(rowStatus(before, u.wgKey)).not.toBeNull();
    const token = await p.admin.csrf(`/admin/users/${u.id}`);

    const r = await p.admin.form(`/admin/users/${u.id}/disable`, { _csrf: token });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe(`/admin/users/${u.id}`);
    expect(await userFootprint(driver, u.id)).toMatchObject({ user: { is_disabled: 1 }, wg_peers: 0, certificates: 0, oauth_authorizations: 0, local_accounts: 1 });
    await eventually(async () => {
      expect(deltas(p.agent?.messages ?? [])).toEqual(
        expect.arrayContaining([
          { op: 'peer_remove', public_key: u.wgKey },
          { op: 'cert_remove', common_name: u.commonName },
        ]),
      );
    });
    const fragment = await (await p.admin.fetch('/admin/connections', { headers: { 'x-fragment': '1' } })).text();
    expect(rowStatus(fragment, u.wgKey)).toBeNull();
    expect(rowStatus(fragment, u.commonName)).toBeNull();
    const page = await (await p.admin.fetch(`/admin/users/${u.id}`)).text();
    expect(page).toContain('id="user-enable"');
    expect(page).toContain('This user has no configurations.');

    expect((await p.admin.form(`/admin/users/${u.id}/enable`, { _csrf: token })).status).toBe(303);
    expect((await userFootprint(driver, u.id)).user).toEqual({ id: u.id, is_disabled: 0 });
    const db = await dbFor(driver);
    const audit = await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', u.id).where('action', 'in', ['user.disable', 'user.enable']).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['user.disable', 'user.enable']);
    p.agent?.close();
  });

  it('deletes a user and everything they hold except the logs', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    // The user is also signed in somewhere.
    const theirs = new Browser(driver);
    expect((await theirs.login(u.id, PASSWORD)).status).toBe(303);
    const db = await dbFor(driver);
    await db.kysely
      .insertInto('connection_log')
      .values({
        user_id: u.id,
        profile_id: p.profileId,
        node_id: p.nodeId,
        vpn_proto: 'openvpn',
        connection_id: u.commonName,
        ip_four: '172.20.1.2',
        ip_six: null,
        originating_ip: null,
        connected_at: 1,
        disconnected_at: 2,
        bytes_in: null,
        bytes_out: null,
      })
      .execute();
    const held = await userFootprint(driver, u.id);
    expect(held).toMatchObject({ wg_peers: 1, certificates: 1, oauth_authorizations: 2, browser_sessions: 1, local_accounts: 1 });

    const token = await p.admin.csrf(`/admin/users/${u.id}`);
    const r = await p.admin.form(`/admin/users/${u.id}/delete`, { _csrf: token });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin/users');
    expect(await userFootprint(driver, u.id)).toEqual({
      user: null,
      wg_peers: 0,
      certificates: 0,
      oauth_authorizations: 0,
      browser_sessions: 0,
      local_accounts: 0,
      connection_log: held.connection_log,
    });
    // The WireGuard row of the log is closed, not removed.
    const open = await db.kysely.selectFrom('connection_log').select('id').where('user_id', '=', u.id).where('disconnected_at', 'is', null).execute();
    expect(open).toEqual([]);
    await eventually(async () => {
      expect(deltas(p.agent?.messages ?? [])).toEqual(
        expect.arrayContaining([
          { op: 'peer_remove', public_key: u.wgKey },
          { op: 'cert_remove', common_name: u.commonName },
        ]),
      );
    });
    const audit = await db.kysely.selectFrom('audit_log').selectAll().where('target_id', '=', u.id).where('action', '=', 'user.delete').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.before_json as string)).toMatchObject({ id: u.id, hasLocalAccount: true });
    expect(audit.after_json).toBeNull();
    expect((await p.admin.fetch(`/admin/users/${u.id}`)).status).toBe(404);
    // Their browser session ended with them.
    expect((await theirs.fetch('/account')).status).toBe(302);
    p.agent?.close();
  });

  it('refuses to let administrators disable or delete themselves', async () => {
    const { browser: admin, id } = await signedIn(driver, { admin: true });
    const page = await (await admin.fetch(`/admin/users/${id}`)).text();
    expect(page).toContain('id="user-self-note"');
    expect(page).not.toContain('id="user-disable"');
    const token = await admin.csrf(`/admin/users/${id}`);
    for (const action of ['disable', 'delete']) {
      const r = await admin.form(`/admin/users/${id}/${action}`, { _csrf: token });
      expect(r.status).toBe(403);
      const html = await r.text();
      expect(html).toContain('id="user-refused"');
      expect(html).toContain('You cannot disable or delete your own account');
    }
    expect(await userFootprint(driver, id)).toMatchObject({ user: { id, is_disabled: 0 }, local_accounts: 1, browser_sessions: 1 });
    // Still signed in and still an administrator.
    expect((await admin.fetch('/admin/users')).status).toBe(200);
  });

  it('refuses every action without a valid CSRF token, changing nothing', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const held = await userFootprint(driver, u.id);
    for (const action of ['disable', 'enable', 'delete']) {
      for (const fields of [{}, { _csrf: 'wrong' }] as Record<string, string>[]) {
        expect((await p.admin.form(`/admin/users/${u.id}/${action}`, fields)).status).toBe(403);
      }
    }
    expect(await userFootprint(driver, u.id)).toEqual(held);
    p.agent?.close();
  });

  it('refuses every page and action to a non-admin with 403, changing nothing', async () => {
    const { id: victim } = await signedIn(driver);
    const { browser } = await signedIn(driver);
    const token = await browser.csrf('/');
    const held = await userFootprint(driver, victim);
    for (const path of ['/admin/users', `/admin/users/${victim}`, '/admin/connections']) expect((await browser.fetch(path)).status).toBe(403);
    expect((await browser.fetch('/admin/connections', { headers: { 'x-fragment': '1' } })).status).toBe(403);
    for (const action of ['disable', 'enable', 'delete']) expect((await browser.form(`/admin/users/${victim}/${action}`, { _csrf: token })).status).toBe(403);
    expect((await browser.form('/admin/users', { _csrf: token, id: unique('sneaky'), password: 'a long enough password' })).status).toBe(403);
    expect((await browser.form('/admin/connections/kill', { _csrf: token, protocol: 'wireguard', key: 'x' })).status).toBe(403);
    expect(await userFootprint(driver, victim)).toEqual(held);
  });
});
