import { describe, expect, it } from 'vitest';
import { dbFor, DRIVERS, makeUser, signedIn, unique } from './helpers.ts';

describe.each(DRIVERS)('deletes through the admin JSON API (%s)', (driver) => {
  // Found by the admin pages: a node that had ever connected has a node_status row, which D1's
  // foreign key refused to leave behind, so the delete failed with a 500.
  it('deletes a node that has reported status', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const id = unique('node');
    expect((await admin.api('POST', '/admin/api/nodes', { id, name: id, host_name: `${id}.example.org`, profiles: [] })).status).toBe(201);
    const db = await dbFor(driver);
    const now = Date.now();
    await db.kysely
      .insertInto('node_status')
      .values({ node_id: id, agent_version: '0.1.0', applied_revision: 3, wanted_revision: 3, connected: 1, last_seen_at: now, load_json: null, sessions_json: null, updated_at: now })
      .execute();
    expect((await admin.api('DELETE', `/admin/api/nodes/${id}`)).status).toBe(204);
    expect(await db.kysely.selectFrom('node_status').select('node_id').where('node_id', '=', id).execute()).toEqual([]);
    expect((await admin.api('GET', `/admin/api/nodes/${id}`)).status).toBe(404);
  });

  it('deletes a user, refuses the admin themself and an unknown user', async () => {
    const { browser: admin, id: adminId } = await signedIn(driver, { admin: true });
    const user = await makeUser(driver);
    expect((await admin.api('DELETE', `/admin/api/users/${user}`)).status).toBe(204);
    expect((await admin.api('GET', '/admin/api/users')).ok).toBe(true);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('users').select('id').where('id', '=', user).execute()).toEqual([]);
    expect((await admin.api('DELETE', `/admin/api/users/${user}`)).status).toBe(404);
    expect((await admin.api('DELETE', `/admin/api/users/${adminId}`)).status).toBe(403);
    expect(await db.kysely.selectFrom('users').select('id').where('id', '=', adminId).execute()).toHaveLength(1);
  });

  it('refuses a non-admin', async () => {
    const { browser } = await signedIn(driver);
    const victim = await makeUser(driver);
    expect((await browser.api('DELETE', `/admin/api/users/${victim}`)).status).toBe(403);
  });
});
