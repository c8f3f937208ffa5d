import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, type Browser } from './helpers.ts';
import { auditActions, csrfOf, makeNode, makeProfile, ownRanges, rowOf } from './admin-nodes-helpers.ts';
import { provision, wgPublicKey } from './connect-helpers.ts';
import { apiCall, appTokens } from './oauth-helpers.ts';

/** The free-address line of one node and protocol in the profile's row of /admin/profiles. */
async function usageLine(admin: Browser, profileId: string, nodeId: string, proto: 'wireguard' | 'openvpn'): Promise<string> {
  const row = rowOf(await (await admin.fetch('/admin/profiles')).text(), `profile-row-${profileId}`);
  const m = row.match(new RegExp(`<li data-node="${nodeId.replace(/\./g, '\\.')}" data-proto="${proto}"[^>]*>[^<]*`));
  if (!m) throw new Error(`no ${proto} line for ${nodeId} in ${row}`);
  return m[0];
}

describe.each(DRIVERS)('admin profiles pages on %s', (driver) => {
  it('lists the nodes serving a profile and the free addresses, which a connect uses up', async () => {
    const p = await provision(driver);
    // A second node with ranges of its own: counted on its own range.
    const own = ownRanges();
    const second = await makeNode(p.admin, [{ profile_id: p.profileId, ...own }]);

    const page = await p.admin.fetch('/admin/profiles');
    expect(page.status).toBe(200);
    const row = rowOf(await page.text(), `profile-row-${p.profileId}`);
    expect(row).toContain(`<a href="/admin/nodes/${p.nodeId}">${p.nodeId}</a>`);
    expect(row).toContain(`<a href="/admin/nodes/${second}">${second}</a>`);
    // A /24 holds 253 clients (network, gateway, broadcast are never handed out); a /28 holds 13.
    expect(await usageLine(p.admin, p.profileId, p.nodeId, 'wireguard')).toContain('data-free="253">' + `${p.nodeId}: WireGuard 253 of 253 free`);
    expect(await usageLine(p.admin, p.profileId, second, 'wireguard')).toContain(`${second}: WireGuard 13 of 13 free`);
    // OpenVPN: 256 addresses less 3 for each of the two processes (one UDP and one TCP port).
    expect(await usageLine(p.admin, p.profileId, p.nodeId, 'openvpn')).toContain('OpenVPN pool of 250, 0 active certificates');

    const { browser: user } = await signedIn(driver);
    const tokens = await appTokens(user);
    const wg = await apiCall(user, tokens.access_token, 'POST', '/connect', { profile_id: p.profileId, public_key: await wgPublicKey() }, { accept: 'application/x-wireguard-profile' });
    expect(wg.status).toBe(200);
    // Only the connected node holds a key, so the peer went there.
    expect(await usageLine(p.admin, p.profileId, p.nodeId, 'wireguard')).toContain('WireGuard 252 of 253 free');

    const other = await appTokens(user);
    const ovpn = await apiCall(user, other.access_token, 'POST', '/connect', { profile_id: p.profileId }, { accept: 'application/x-openvpn-profile' });
    expect(ovpn.status).toBe(200);
    expect(await usageLine(p.admin, p.profileId, p.nodeId, 'openvpn')).toContain('OpenVPN pool of 250, 1 active certificates');

    // An expired configuration no longer holds its address.
    const db = await dbFor(driver);
    await db.kysely
      .updateTable('wg_peers')
      .set({ expires_at: Date.now() - 1 })
      .where('node_id', '=', p.nodeId)
      .execute();
    expect(await usageLine(p.admin, p.profileId, p.nodeId, 'wireguard')).toContain('WireGuard 253 of 253 free');

    // The edit page has the same per node, with the ranges each node uses.
    const edit = await (await p.admin.fetch(`/admin/profiles/${p.profileId}`)).text();
    const servingRow = rowOf(edit, `serving-${second}`);
    expect(servingRow).toContain(`${own.wireguard.range_four} (node&#39;s own)`);
    expect(edit).toContain(`${p.wgRange.range_four} (profile&#39;s)`);
    expect(edit).toContain('id="serving-nodes"');
    expect(edit).toContain(`${second}: WireGuard 13 of 13 free`);
    p.agent?.close();
  });

  it('translates the profile pages', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const nl = { headers: { 'accept-language': 'nl' } };
    const list = await (await admin.fetch('/admin/profiles', nl)).text();
    expect(list).toContain('<h1>Profielen</h1>');
    expect(list).toContain('Bediend door');
    expect(list).toContain('Vrije adressen');
    expect(rowOf(list, `profile-row-${profileId}`)).toContain('geen node');
    const edit = await (await admin.fetch(`/admin/profiles/${profileId}`, nl)).text();
    expect(edit).toContain('Weergavenaam');
    expect(edit).toContain('Dit profiel verwijderen');
    expect(await (await admin.fetch('/admin/nodes', nl)).text()).toContain('Node toevoegen');
  });

  it('creates a profile from the form, refuses a bad one with 400 and no row, and deletes one after asking', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const form = await (await admin.fetch('/admin/profiles/new')).text();
    const token = csrfOf(form);
    const id = `pf${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const r = Math.floor(Math.random() * 250);
    const fields = {
      _csrf: token,
      id,
      display_name: 'Guests',
      host_name: 'vpn.example.org',
      default_gateway: 'on',
      wg_enabled: 'on',
      wg_range_four: `10.${r}.250.0/24`,
      wg_range_six: `fd40:${r.toString(16)}::/64`,
      wg_port: '51820',
      preferred_proto: 'wireguard',
    };

    const bad = await admin.form('/admin/profiles', { ...fields, wg_range_four: '10.0.0.0/33' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('wireguard.range_four');
    expect(await db.kysely.selectFrom('profiles').select('id').where('id', '=', id).execute()).toEqual([]);

    for (const t of [undefined, 'wrong-token']) {
      const { _csrf, ...rest } = fields;
      expect((await admin.form('/admin/profiles', t ? { ...rest, _csrf: t } : rest)).status).toBe(403);
    }
    expect(await db.kysely.selectFrom('profiles').select('id').where('id', '=', id).execute()).toEqual([]);

    const ok = await admin.form('/admin/profiles', fields);
    expect(ok.status, await ok.clone().text()).toBe(303);
    const edit = await (await admin.fetch(`/admin/profiles/${id}`)).text();
    expect(edit).toMatch(new RegExp(`<form method="post" action="/admin/profiles/${id}/delete" class="stack" data-confirm="Delete profile ${id}[^"]*">`));

    for (const t of [undefined, 'wrong-token']) {
      expect((await admin.form(`/admin/profiles/${id}/delete`, t ? { _csrf: t } : {})).status).toBe(403);
    }
    expect(await db.kysely.selectFrom('profiles').select('id').where('id', '=', id).execute()).toEqual([{ id }]);

    const del = await admin.form(`/admin/profiles/${id}/delete`, { _csrf: token });
    expect(del.status).toBe(303);
    expect(del.headers.get('location')).toBe('/admin/profiles');
    expect(await db.kysely.selectFrom('profiles').select('id').where('id', '=', id).execute()).toEqual([]);
    expect(await auditActions(driver, id)).toEqual(['profile.create', 'profile.delete']);
    expect((await admin.fetch(`/admin/profiles/${id}`)).status).toBe(404);
  });

  it('saves a WireGuard-only profile from the form as the page leaves it: the preferred-protocol select stays at its default', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const token = csrfOf(await (await admin.fetch('/admin/profiles/new')).text());
    const id = `wg${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const r = Math.floor(Math.random() * 250);
    // What the browser sends: the select's first option ("openvpn") although OpenVPN is off.
    const fields = {
      _csrf: token,
      id,
      display_name: 'WireGuard only',
      host_name: 'vpn.example.org',
      wg_enabled: 'on',
      wg_range_four: `10.${r}.249.0/24`,
      wg_range_six: `fd41:${r.toString(16)}::/64`,
      wg_port: '51820',
      preferred_proto: 'openvpn',
    };
    const ok = await admin.form('/admin/profiles', fields);
    expect(ok.status, await ok.clone().text()).toBe(303);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('profiles').select(['id', 'preferred_proto']).where('id', '=', id).execute()).toEqual([{ id, preferred_proto: 'wireguard' }]);
  });

  it('refuses the profile pages and actions to a non-admin with 403', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const { browser: user } = await signedIn(driver);
    const token = csrfOf(await (await user.fetch('/')).text());
    for (const path of ['/admin/profiles', '/admin/profiles/new', `/admin/profiles/${profileId}`]) expect((await user.fetch(path)).status, path).toBe(403);
    for (const path of ['/admin/profiles', `/admin/profiles/${profileId}`, `/admin/profiles/${profileId}/delete`]) {
      expect((await user.form(path, { _csrf: token, id: profileId, display_name: 'x' })).status, path).toBe(403);
    }
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('profiles').select('display_name').where('id', '=', profileId).executeTakeFirst()).toEqual({ display_name: 'Staff' });
  });
});
