import { PROTOCOL_VERSION } from '@edgeport/schema';
import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, type Browser } from './helpers.ts';
import { auditActions, csrfOf, eventually, makeNode, makeProfile, ownRanges, rowOf } from './admin-nodes-helpers.ts';
import { enrollNode, open, type NodeSocket } from './test-node.ts';

const fragment = (b: Browser, path: string) => b.fetch(path, { headers: { 'x-fragment': '1' } });

function hello(socket: NodeSocket, nodeId: string, applied: number | null, version: string) {
  socket.send({ type: 'hello', protocol: PROTOCOL_VERSION, node_id: nodeId, agent_version: version, applied_revision: applied, wg_public_key: null, capabilities: ['wireguard', 'openvpn'] });
}

async function rowWhen(b: Browser, nodeId: string, status: string): Promise<string> {
  let row = '';
  await eventually(async () => {
    row = rowOf(await (await fragment(b, '/admin/nodes')).text(), `node-row-${nodeId}`);
    return row.includes(`data-status="${status}"`);
  });
  return row;
}

// The NodeChannel object writes node_status through the worker's own binding (D1 in these tests),
// so the path through a real agent connection runs on D1; the page's reading of the same rows
// runs on both drivers below.
describe('admin nodes page with a real node channel', () => {
  const driver = 'd1';
  it('lists a node as not enrolled, offline, then online with its agent version and revision once its agent says hello', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const nodeId = await makeNode(admin, [{ profile_id: profileId }]);

    const page = await admin.fetch('/admin/nodes');
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<h1>Nodes</h1>');
    expect(html).toContain('data-live="/admin/nodes"');
    const row = rowOf(html, `node-row-${nodeId}`);
    expect(row).toContain('data-status="unenrolled"');
    expect(row).toContain('not enrolled');
    expect(row).toContain(`href="/admin/profiles/${profileId}"`);
    expect(row).toContain(`${nodeId}.example.org`);

    const credential = await enrollNode(admin, nodeId, driver);
    expect(rowOf(await (await fragment(admin, '/admin/nodes')).text(), `node-row-${nodeId}`)).toContain('data-status="offline"');

    // A fresh node's channel is at revision 0: an agent that applied 0 is in sync.
    const { node: socket } = await open(nodeId, credential, driver);
    if (!socket) throw new Error('no socket');
    hello(socket, nodeId, 0, '1.4.2-test');
    const online = await rowWhen(admin, nodeId, 'online');
    expect(online).toContain('data-agent-version="1.4.2-test"');
    expect(online).toContain('data-revision="0" data-wanted="0"');
    expect(online).toContain('in sync');
    expect(online).toContain('less than a minute ago');

    // The detail page shows the same, and its own fragment is the status panel alone.
    const panel = await (await fragment(admin, `/admin/nodes/${nodeId}`)).text();
    expect(panel.startsWith('<dl class="node-facts" data-status="online">')).toBe(true);
    expect(panel).toContain('1.4.2-test');

    // An edit makes a new revision; an agent coming back at the old one is behind until it applies it.
    const token = csrfOf(await (await admin.fetch(`/admin/nodes/${nodeId}`)).text());
    const edit = await admin.form(`/admin/nodes/${nodeId}`, { _csrf: token, name: 'renamed', host_name: `${nodeId}.example.org`, [`serve.${profileId}`]: 'on' });
    expect(edit.status).toBe(303);
    socket.ws.close();
    await rowWhen(admin, nodeId, 'offline');
    const again = await open(nodeId, credential, driver);
    if (!again.node) throw new Error('no socket');
    hello(again.node, nodeId, 0, '1.4.2-test');
    const behind = await rowWhen(admin, nodeId, 'online');
    expect(behind).toContain('data-revision="0" data-wanted="1"');
    expect(behind).toContain('behind by 1');
    again.node.ws.close();
  });
});

describe.each(DRIVERS)('admin nodes page on %s', (driver) => {
  it('shows what node_status holds: health by the connect rule, revision, heartbeat age, load and sessions; the fragment is the table alone', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const nodeId = await makeNode(admin);
    const db = await dbFor(driver);
    // Enrolled (a credential hash is all the page looks at), and a status row as the channel writes it.
    await db.kysely
      .updateTable('nodes')
      .set({ credential_hash: 'x'.repeat(64), enrolled_at: Date.now() })
      .where('id', '=', nodeId)
      .execute();
    const now = Date.now();
    await db.kysely
      .insertInto('node_status')
      .values({
        node_id: nodeId,
        agent_version: '2.0.1',
        applied_revision: 4,
        wanted_revision: 7,
        connected: 1,
        last_seen_at: now - 3000,
        load_json: JSON.stringify({ load_average: [0.5, 0.25, 0.125], cpu_count: 4, uptime_s: 100 }),
        sessions_json: JSON.stringify({ at: now, counts: [], peers: 12, clients: 3 }),
        updated_at: now,
      })
      .execute();

    const frag = await fragment(admin, '/admin/nodes');
    expect(frag.status).toBe(200);
    const fragHtml = await frag.text();
    expect(fragHtml.startsWith('<div class="table-wrap"><table id="nodes-table">')).toBe(true);
    expect(fragHtml).not.toContain('<html');
    expect(fragHtml).not.toContain('new-node-form');
    const row = rowOf(fragHtml, `node-row-${nodeId}`);
    expect(row).toContain('data-status="online"');
    expect(row).toContain('data-agent-version="2.0.1"');
    expect(row).toContain('behind by 3');
    expect(row).toContain('revision 4 of 7');
    expect(row).toContain('less than a minute ago');
    expect(row).toContain('0.50 0.25 0.13 on 4 CPUs');
    expect(row).toContain('12 WireGuard peers, 3 OpenVPN clients');

    // Heard from longer ago than NODE_HEALTHY_SECONDS (45 s): offline, as /connect would judge it.
    await db.kysely
      .updateTable('node_status')
      .set({ last_seen_at: now - 46_000 })
      .where('node_id', '=', nodeId)
      .execute();
    expect(rowOf(await (await fragment(admin, '/admin/nodes')).text(), `node-row-${nodeId}`)).toContain('data-status="offline"');
    await db.kysely
      .updateTable('node_status')
      .set({ last_seen_at: now - 125_000 })
      .where('node_id', '=', nodeId)
      .execute();
    const stale = rowOf(await (await fragment(admin, '/admin/nodes')).text(), `node-row-${nodeId}`);
    expect(stale).toContain('data-status="offline"');
    expect(stale).toContain('2 min ago');
    expect(stale).toContain('at last contact');
    await db.kysely.updateTable('node_status').set({ last_seen_at: now, connected: 0 }).where('node_id', '=', nodeId).execute();
    expect(rowOf(await (await fragment(admin, '/admin/nodes')).text(), `node-row-${nodeId}`)).toContain('data-status="offline"');

    const nl = await (await admin.fetch(`/admin/nodes/${nodeId}`, { headers: { 'accept-language': 'nl' } })).text();
    expect(nl).toContain('3 achter');
    expect(nl).toContain('12 WireGuard-peers, 3 OpenVPN-clients');
  });

  it('adds a node from the form, with the profile ranges or its own, and re-renders a bad form with 400 and no row', async () => {
    const { browser: admin, id: adminId } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const db = await dbFor(driver);
    const html = await (await admin.fetch('/admin/nodes')).text();
    expect(html).toContain('id="new-node-form"');
    expect(html).toContain(`name="serve.${profileId}"`);
    const token = csrfOf(html);

    const first = `${profileId}-a`;
    const ok = await admin.form('/admin/nodes', { _csrf: token, id: first, name: `First ${first}`, host_name: 'a.example.org', [`serve.${profileId}`]: 'on' });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(`/admin/nodes/${first}`);
    expect(await db.kysely.selectFrom('node_profiles').selectAll().where('node_id', '=', first).execute()).toEqual([
      { node_id: first, profile_id: profileId, host_name: null, wg_range_four: null, wg_range_six: null, ovpn_range_four: null, ovpn_range_six: null },
    ]);
    expect(await auditActions(driver, first)).toEqual(['node.create']);
    const audit = await db.kysely.selectFrom('audit_log').select('actor_user_id').where('target_id', '=', first).executeTakeFirstOrThrow();
    expect(audit.actor_user_id).toBe(adminId);

    // A second node on the profile's own ranges is refused: the message comes back with the form as typed.
    const second = `${profileId}-b`;
    const bad = await admin.form('/admin/nodes', { _csrf: token, id: second, name: `Second ${second}`, host_name: 'b.example.org', [`serve.${profileId}`]: 'on' });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('role="alert"');
    expect(badHtml).toContain(`profiles.${profileId}.wireguard`);
    expect(badHtml).toContain(`node &quot;${first}&quot; already uses the profile&#39;s own ranges`);
    expect(badHtml).toContain(`value="${second}"`);
    expect(await db.kysely.selectFrom('nodes').select('id').where('id', '=', second).execute()).toEqual([]);

    const own = ownRanges();
    const withRanges = await admin.form('/admin/nodes', {
      _csrf: token,
      id: second,
      name: `Second ${second}`,
      host_name: 'b.example.org',
      [`serve.${profileId}`]: 'on',
      [`host.${profileId}`]: 'b-staff.example.org',
      [`wg4.${profileId}`]: own.wireguard.range_four,
      [`wg6.${profileId}`]: own.wireguard.range_six,
      [`ovpn4.${profileId}`]: own.openvpn.range_four,
      [`ovpn6.${profileId}`]: own.openvpn.range_six,
    });
    expect(withRanges.status, await withRanges.clone().text()).toBe(303);
    expect(await db.kysely.selectFrom('node_profiles').select(['host_name', 'wg_range_four', 'ovpn_range_six']).where('node_id', '=', second).execute()).toEqual([
      { host_name: 'b-staff.example.org', wg_range_four: own.wireguard.range_four, ovpn_range_six: own.openvpn.range_six },
    ]);

    const badId = await admin.form('/admin/nodes', { _csrf: token, id: 'Not An Id', name: 'x', host_name: 'not a host!' });
    expect(badId.status).toBe(400);
    const badIdHtml = await badId.text();
    expect(badIdHtml).toContain('must be a DNS name or an IP address');
    expect(badIdHtml).toContain('lowercase letters, digits');
    expect(await db.kysely.selectFrom('nodes').select('id').where('id', '=', 'Not An Id').execute()).toEqual([]);

    const duplicate = await admin.form('/admin/nodes', { _csrf: token, id: first, name: 'another', host_name: 'c.example.org' });
    expect(duplicate.status).toBe(409);
    expect(await duplicate.text()).toContain('already exists');

    for (const t of [undefined, 'wrong-token']) {
      const id = `${profileId}-c`;
      const r = await admin.form('/admin/nodes', { ...(t ? { _csrf: t } : {}), id, name: id, host_name: 'c.example.org' });
      expect(r.status).toBe(403);
      expect(await db.kysely.selectFrom('nodes').select('id').where('id', '=', id).execute()).toEqual([]);
    }
  });

  it('edits the assignments of a node with the API validation and deletes it', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const nodeId = await makeNode(admin);
    const db = await dbFor(driver);
    const html = await (await admin.fetch(`/admin/nodes/${nodeId}`)).text();
    expect(html).toContain(`<h1>Node ${nodeId}</h1>`);
    expect(html).toContain('id="node-edit-form"');
    expect(html).toContain(`data-live="/admin/nodes/${nodeId}"`);
    const token = csrfOf(html);

    const half = await admin.form(`/admin/nodes/${nodeId}`, { _csrf: token, name: 'n', host_name: 'n.example.org', [`serve.${profileId}`]: 'on', [`wg4.${profileId}`]: '100.64.0.0/28' });
    expect(half.status).toBe(400);
    expect(await half.text()).toContain(`profiles.${profileId}.wireguard.range_six`);
    expect(await db.kysely.selectFrom('node_profiles').select('profile_id').where('node_id', '=', nodeId).execute()).toEqual([]);

    const ok = await admin.form(`/admin/nodes/${nodeId}`, { _csrf: token, name: 'Amsterdam', host_name: 'ams.example.org', [`serve.${profileId}`]: 'on' });
    expect(ok.status).toBe(303);
    expect(await db.kysely.selectFrom('nodes').select(['name', 'host_name']).where('id', '=', nodeId).executeTakeFirst()).toEqual({ name: 'Amsterdam', host_name: 'ams.example.org' });
    expect(await db.kysely.selectFrom('node_profiles').select('profile_id').where('node_id', '=', nodeId).execute()).toEqual([{ profile_id: profileId }]);
    expect(await (await admin.fetch(`/admin/nodes/${nodeId}`)).text()).toMatch(new RegExp(`name="serve\\.${profileId}" checked`));

    for (const t of [undefined, 'wrong-token']) {
      expect((await admin.form(`/admin/nodes/${nodeId}`, { ...(t ? { _csrf: t } : {}), name: 'x', host_name: 'x.example.org' })).status).toBe(403);
      expect((await admin.form(`/admin/nodes/${nodeId}/delete`, t ? { _csrf: t } : {})).status).toBe(403);
    }
    expect(await db.kysely.selectFrom('nodes').select('name').where('id', '=', nodeId).executeTakeFirst()).toEqual({ name: 'Amsterdam' });

    const del = await admin.form(`/admin/nodes/${nodeId}/delete`, { _csrf: token });
    expect(del.status).toBe(303);
    expect(del.headers.get('location')).toBe('/admin/nodes');
    expect(await db.kysely.selectFrom('nodes').select('id').where('id', '=', nodeId).execute()).toEqual([]);
    expect(await auditActions(driver, nodeId)).toEqual(['node.create', 'node.update', 'node.delete']);
    expect((await admin.fetch(`/admin/nodes/${nodeId}`)).status).toBe(404);
  });
});
