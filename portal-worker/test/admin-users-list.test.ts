import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, makeUser, signedIn, unique, type Driver } from './helpers.ts';
import { provisionOwn, userWithConfigs } from './admin-users-helpers.ts';

/** This file's OpenVPN address lane (see provisionOwn). */
const LANE = 17;

/** The user ids listed on a users page, in order. */
function listed(html: string): string[] {
  return [...html.matchAll(/<tr data-user="([^"]+)"/g)].map((m) => m[1] as string);
}

describe.each(DRIVERS)('admin users list on %s', (driver: Driver) => {
  it('searches id and display name case-insensitively and filters by status', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const tag = unique('srch');
    const alice = await makeUser(driver, { id: `${tag}-alice` });
    const bob = await makeUser(driver, { id: `${tag}-bob` });
    const carol = await makeUser(driver, { id: `${tag}-carol`, admin: true });
    const dave = await makeUser(driver, { id: unique('dave') });
    await db.kysely
      .updateTable('users')
      .set({ display_name: `Alice Wonder ${tag}` })
      .where('id', '=', alice)
      .execute();
    await db.kysely
      .updateTable('users')
      .set({ display_name: `Dave ${tag}x` })
      .where('id', '=', dave)
      .execute();
    await db.kysely.updateTable('users').set({ is_disabled: 1 }).where('id', '=', bob).execute();

    const get = async (query: string) => {
      const r = await admin.fetch(`/admin/users?${query}`);
      expect(r.status).toBe(200);
      return r.text();
    };
    const q = (s: string) => encodeURIComponent(s);
    // Dave matches on his display name only.
    expect(listed(await get(`q=${q(tag)}`))).toEqual([`${tag}-alice`, `${tag}-bob`, `${tag}-carol`, dave].sort());
    expect(listed(await get(`q=${q(`WONDER ${tag.toUpperCase()}`)}`))).toEqual([alice]);
    expect(listed(await get(`q=${q(tag)}&status=active`))).toEqual([alice, carol, dave].sort());
    expect(listed(await get(`q=${q(tag)}&status=disabled`))).toEqual([bob]);
    expect(listed(await get(`q=${q(tag)}&status=admins`))).toEqual([carol]);
    // LIKE wildcards in the search are literal characters.
    expect(listed(await get(`q=${q(`${tag}%`)}`))).toEqual([]);
    expect(listed(await get(`q=${q(`${tag}_alice`)}`))).toEqual([]);
    // An unknown filter shows everyone; the form keeps what was asked.
    const all = await get(`q=${q(tag)}&status=bogus`);
    expect(listed(all)).toHaveLength(4);
    expect(all).toContain(`id="users-q" value="${tag}"`);
    const none = await get(`q=${q(unique('nobody'))}`);
    expect(none).toContain('id="users-empty"');
    expect(none).toContain('No users match.');

    const html = await get(`q=${q(tag)}`);
    expect(html).toContain(`<a href="/admin/users/${encodeURIComponent(alice)}">${alice}</a>`);
    const bobRow = html.slice(html.indexOf(`<tr data-user="${bob}"`), html.indexOf('</tr>', html.indexOf(`<tr data-user="${bob}"`)));
    expect(bobRow).toContain('badge bad');
    expect(bobRow).toContain('disabled');
    const carolRow = html.slice(html.indexOf(`<tr data-user="${carol}"`), html.indexOf('</tr>', html.indexOf(`<tr data-user="${carol}"`)));
    expect(carolRow).toContain('administrator');
  });

  it('counts each user’s configurations and shows when they were last seen', async () => {
    const p = await provisionOwn(driver, LANE);
    const u = await userWithConfigs(driver, p);
    const html = await (await p.admin.fetch(`/admin/users?q=${encodeURIComponent(u.id)}`)).text();
    const row = html.slice(html.indexOf(`<tr data-user="${u.id}"`));
    const cells = [...row.slice(0, row.indexOf('</tr>')).matchAll(/<td>([^<]*)<\/td>/g)].map((m) => m[1]);
    // name, last seen (never signed in), configurations
    expect(cells).toEqual(['—', '—', '2']);
    p.agent?.close();
  });

  it('adds a local account through the form, and re-renders it with the errors on bad input', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const token = await admin.csrf('/admin/users');
    const id = unique('new');
    const ok = await admin.form('/admin/users', { _csrf: token, id: id.toUpperCase(), display_name: ' Nieuw Account ', password: 'a long enough password', permissions: 'staff, vpn', is_admin: 'on' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/admin/users/${id}`);
    const row = await db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ display_name: 'Nieuw Account', is_admin: 1, permissions: '["staff","vpn"]' });

    const badId = unique('bad id!');
    const bad = await admin.form('/admin/users', { _csrf: token, id: badId, display_name: 'Keep me', password: 'a long enough password', permissions: 'staff' });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('role="alert"');
    expect(html).toContain('letters, digits');
    expect(html).toContain('value="Keep me"');
    expect(await db.kysely.selectFrom('users').select('id').where('id', '=', badId.toLowerCase()).executeTakeFirst()).toBeUndefined();

    const short = await admin.form('/admin/users', { _csrf: token, id: unique('short'), password: 'x' });
    expect(short.status).toBe(400);
    expect(await short.text()).toContain('<code>password</code>');

    // A taken name is shown on the form too, and nothing changes.
    const taken = await admin.form('/admin/users', { _csrf: token, id, password: 'another long password' });
    expect(taken.status).toBe(400);
    expect(await taken.text()).toContain('already exists');
    expect(await db.kysely.selectFrom('local_accounts').select('password_hash').where('user_id', '=', id).execute()).toHaveLength(1);
  });

  it('refuses the add form without a valid CSRF token, writing nothing', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    for (const fields of [{}, { _csrf: 'wrong' }] as Record<string, string>[]) {
      const id = unique('csrf');
      const r = await admin.form('/admin/users', { ...fields, id, password: 'a long enough password' });
      expect(r.status).toBe(403);
      expect(await db.kysely.selectFrom('users').select('id').where('id', '=', id).executeTakeFirst()).toBeUndefined();
    }
  });

  it('is translated into Dutch', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    admin.cookies.set('L', 'nl');
    const html = await (await admin.fetch('/admin/users')).text();
    expect(html).toContain('<h1>Gebruikers</h1>');
    expect(html).toContain('Lokaal account toevoegen');
    expect(html).toContain('Beheerders');
    expect(html).not.toContain('Add a local account');
  });
});
