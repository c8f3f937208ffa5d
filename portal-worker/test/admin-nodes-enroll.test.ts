import { describe, expect, it } from 'vitest';
import { authenticateNode } from '../src/domain/enrollment.ts';
import { Browser, DRIVERS, dbFor, signedIn } from './helpers.ts';
import { auditActions, csrfOf, eventually, makeNode, makeProfile, rowOf } from './admin-nodes-helpers.ts';
import { enrollNode, open, portalFetch, TestNode } from './test-node.ts';

function decode(html: string): string {
  return html
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

describe.each(DRIVERS)('node enrollment and revocation pages on %s', (driver) => {
  it('shows the enroll command once, with a token that enrolls the node, and allows enrolling again', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const nodeId = await makeNode(admin);
    const db = await dbFor(driver);
    const detail = await (await admin.fetch(`/admin/nodes/${nodeId}`)).text();
    expect(detail).toContain('id="enroll-form"');
    expect(detail).toContain('Make enrollment token');
    expect(detail).not.toContain('id="enroll-command"');
    const token = csrfOf(detail);

    for (const t of [undefined, 'wrong-token']) {
      expect((await admin.form(`/admin/nodes/${nodeId}/enroll`, t ? { _csrf: t } : {})).status).toBe(403);
    }
    expect(await db.kysely.selectFrom('nodes').select('enrollment_hash').where('id', '=', nodeId).executeTakeFirst()).toEqual({ enrollment_hash: null });

    const r = await admin.form(`/admin/nodes/${nodeId}/enroll`, { _csrf: token });
    expect(r.status).toBe(200);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const html = await r.text();
    const m = html.match(/<textarea id="enroll-command"[^>]*readonly[^>]*>([^<]+)<\/textarea>/);
    expect(m?.[1]).toBeTruthy();
    const command = decode(m?.[1] as string);
    expect(command).toMatch(new RegExp(`^edgeport-agent enroll --portal http://portal\\.test --node ${nodeId} --token ept_[\\w-]+$`));
    expect(html).toContain('data-copy="#enroll-command"');
    expect(html).toMatch(/id="enroll-expiry">valid until \d{4}-\d\d-\d\d \d\d:\d\d UTC/);
    expect(await auditActions(driver, nodeId)).toEqual(['node.create', 'node.enrollment']);

    // The token from the page is the real thing: the agent trades it for a credential and connects.
    const enrollToken = command.split(' --token ')[1] as string;
    const enrolled = await portalFetch(
      'http://portal.test/node/enroll',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: nodeId, token: enrollToken }) },
      driver,
    );
    expect(enrolled.status).toBe(201);
    const { credential } = await enrolled.json<{ credential: string }>();
    expect(await authenticateNode(db, nodeId, credential)).toEqual({ id: nodeId });
    const { status, node } = await open(nodeId, credential, driver);
    expect(status).toBe(101);
    node?.ws.close();

    // Enrolled: the page offers a new token (as the API allows), asking first.
    const after = await (await admin.fetch(`/admin/nodes/${nodeId}`)).text();
    expect(after).toContain('Make a new enrollment token');
    expect(after).toMatch(/id="enroll-form" data-confirm="[^"]+"/);
    expect(after).not.toContain(enrollToken);
    const again = await admin.form(`/admin/nodes/${nodeId}/enroll`, { _csrf: token });
    expect(again.status).toBe(200);
    expect(await again.text()).not.toContain(enrollToken);
  });

  it('revokes a connected node from the page: cut off now, refused afterwards, never enrolled again', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const profileId = await makeProfile(admin);
    const nodeId = await makeNode(admin, [{ profile_id: profileId }]);
    const credential = await enrollNode(admin, nodeId, driver);
    const agent = await TestNode.start(nodeId, credential, driver);
    const db = await dbFor(driver);

    const list = await (await admin.fetch('/admin/nodes')).text();
    const row = rowOf(list, `node-row-${nodeId}`);
    expect(row).toMatch(/<form method="post" action="\/admin\/nodes\/[^"]+\/revoke" class="inline" data-confirm="Revoke node [^"]+">/);
    const token = csrfOf(list);

    for (const t of [undefined, 'wrong-token']) {
      expect((await admin.form(`/admin/nodes/${nodeId}/revoke`, t ? { _csrf: t } : {})).status).toBe(403);
    }
    expect(await authenticateNode(db, nodeId, credential)).toEqual({ id: nodeId });

    const r = await admin.form(`/admin/nodes/${nodeId}/revoke`, { _csrf: token });
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/admin/nodes');
    expect(await authenticateNode(db, nodeId, credential)).toBeNull();
    await eventually(async () => agent.socket.closed !== null);
    expect(agent.socket.closed?.code).toBe(4003);
    expect(agent.messages.some((m) => m.type === 'error' && m.code === 'revoked')).toBe(true);
    expect((await open(nodeId, credential, driver)).status).toBe(401);
    expect(await auditActions(driver, nodeId)).toContain('node.revoke');

    const revokedRow = rowOf(await (await admin.fetch('/admin/nodes')).text(), `node-row-${nodeId}`);
    expect(revokedRow).toContain('data-status="revoked"');
    expect(revokedRow).not.toContain('/revoke"');
    const detail = await (await admin.fetch(`/admin/nodes/${nodeId}`)).text();
    expect(detail).not.toContain('id="enroll-form"');
    expect(detail).toContain('A revoked node cannot enroll again');
    expect((await admin.form(`/admin/nodes/${nodeId}/enroll`, { _csrf: token })).status).toBe(409);
  });

  it('refuses every nodes page and action to a non-admin with 403', async () => {
    const { browser: admin } = await signedIn(driver, { admin: true });
    const nodeId = await makeNode(admin);
    const { browser: user } = await signedIn(driver);
    const token = csrfOf(await (await user.fetch('/')).text());
    for (const path of ['/admin/nodes', `/admin/nodes/${nodeId}`]) {
      expect((await user.fetch(path)).status).toBe(403);
      expect((await user.fetch(path, { headers: { 'x-fragment': '1' } })).status).toBe(403);
    }
    const forms: [string, Record<string, string>][] = [
      ['/admin/nodes', { id: `${nodeId}-x`, name: 'x', host_name: 'x.example.org' }],
      [`/admin/nodes/${nodeId}`, { name: 'x', host_name: 'x.example.org' }],
      [`/admin/nodes/${nodeId}/enroll`, {}],
      [`/admin/nodes/${nodeId}/revoke`, {}],
      [`/admin/nodes/${nodeId}/delete`, {}],
    ];
    for (const [path, fields] of forms) expect((await user.form(path, { _csrf: token, ...fields })).status, path).toBe(403);
    const db = await dbFor(driver);
    expect(await db.kysely.selectFrom('nodes').select(['name', 'revoked_at', 'enrollment_hash']).where('id', '=', nodeId).executeTakeFirst()).toEqual({
      name: nodeId,
      revoked_at: null,
      enrollment_hash: null,
    });
    // Signed out: the page sends to the login form.
    expect((await new Browser(driver).fetch('/admin/nodes')).status).toBe(302);
  });
});
