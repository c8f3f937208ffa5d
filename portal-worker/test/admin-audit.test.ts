import { describe, expect, it } from 'vitest';
import { DRIVERS, PASSWORD, dbFor, signedIn, unique, type Driver } from './helpers.ts';
import { auditInsert } from '../src/store/audit.ts';

let octet = Math.floor(Math.random() * 200);
function profileBody(id: string) {
  const n = (octet = (octet + 1) % 250);
  const m = Math.floor(Math.random() * 250);
  return {
    id,
    display_name: 'Before name',
    host_name: 'vpn.example.org',
    dns_servers: ['9.9.9.9'],
    wireguard: { range_four: `10.${m}.${n}.0/24`, range_six: `fd30:${m.toString(16)}:${n.toString(16)}::/64`, port: 51820 },
    openvpn: null,
    preferred_proto: 'wireguard',
  };
}

/** Ids of the audit rows on a page, in page order. */
const rowIds = (html: string) => [...html.matchAll(/<tr id="audit-(\d+)"/g)].map((m) => Number(m[1]));
const olderLink = (html: string) => html.match(/<a href="([^"]+)" id="audit-older"/)?.[1]?.replaceAll('&amp;', '&') ?? null;

async function bulkAudit(driver: Driver, actor: string, count: number, action: (i: number) => string, target: (i: number) => [string, string]) {
  const db = await dbFor(driver);
  const now = Date.now();
  await db.atomic(Array.from({ length: count }, (_, i) => auditInsert(db, { actorUserId: actor, requestId: `req-${i}` }, now + i, action(i), ...target(i), null, { i })));
}

describe.each(DRIVERS)('audit log page on %s', (driver) => {
  it('shows an admin change with who, what, target, request id and before/after, changed keys marked', async () => {
    const { browser, id: admin } = await signedIn(driver, { admin: true });
    const id = unique('auditprof');
    const body = profileBody(id);
    expect((await browser.api('POST', '/admin/api/profiles', body)).status).toBe(201);
    const { id: _id, ...rest } = body;
    expect((await browser.api('PUT', `/admin/api/profiles/${id}`, { ...rest, display_name: 'After name' })).status).toBe(200);
    // A password set by an admin is never recorded.
    const userId = unique('audituser');
    expect((await browser.api('POST', '/admin/api/users', { id: userId, password: PASSWORD, is_admin: false, permissions: [] })).status).toBe(201);

    const db = await dbFor(driver);
    const row = await db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'profile.update').where('target_id', '=', id).executeTakeFirstOrThrow();
    const r = await browser.fetch(`/admin/audit?actor=${admin}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    const start = html.indexOf(`<tr id="audit-${row.id}"`);
    expect(start).toBeGreaterThan(0);
    const entry = html.slice(start, html.indexOf('</tr>', start));
    expect(entry).toContain(`<td>${admin}</td>`);
    expect(entry).toContain('<code>profile.update</code>');
    expect(entry).toContain(`<code>profile:${id}</code>`);
    expect(entry).toContain(`<code class="small">${row.request_id}</code>`);
    expect(entry).toContain(`<time datetime="${new Date(row.at).toISOString()}">`);
    expect(entry).toContain('<details><summary>Before and after</summary>');
    expect(entry).toContain('<mark class="changed" data-key="display_name">  &quot;display_name&quot;: &quot;Before name&quot;,</mark>');
    expect(entry).toContain('<mark class="changed" data-key="display_name">  &quot;display_name&quot;: &quot;After name&quot;,</mark>');
    expect(entry).not.toContain('data-key="host_name"');
    expect(entry).toContain('&quot;host_name&quot;: &quot;vpn.example.org&quot;');
    // Newest first.
    const ids = rowIds(html);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(html).toContain(`<code>user:${userId}</code>`);
    expect(html).not.toContain(PASSWORD);
    expect(html).not.toContain('password_hash');
  });

  it('pages 50 at a time, newest first, with a before cursor that keeps the filters', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const actor = unique('pager');
    await bulkAudit(
      driver,
      actor,
      120,
      (i) => `test.page.${i}`,
      (i) => ['thing', `t${i}`],
    );
    const first = await (await browser.fetch(`/admin/audit?actor=${actor}`)).text();
    const page1 = rowIds(first);
    expect(page1).toHaveLength(50);
    expect(first).not.toContain('id="audit-newest"');
    const next = olderLink(first);
    expect(next).toBe(`/admin/audit?actor=${actor}&before=${page1[49]}`);
    const second = await (await browser.fetch(next as string)).text();
    const page2 = rowIds(second);
    expect(page2).toHaveLength(50);
    expect(Math.max(...page2)).toBeLessThan(Math.min(...page1));
    expect(second).toContain(`<a href="/admin/audit?actor=${actor}" id="audit-newest">Newest entries</a>`);
    const third = await (await browser.fetch(olderLink(second) as string)).text();
    const page3 = rowIds(third);
    expect(page3).toHaveLength(20);
    expect(olderLink(third)).toBeNull();
    expect(new Set([...page1, ...page2, ...page3]).size).toBe(120);
    expect(third).toContain('<code>test.page.0</code>');
  });

  it('filters by actor, action prefix and target', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const actor = unique('filt');
    const other = unique('filt');
    const target = unique('tgt');
    await bulkAudit(
      driver,
      actor,
      4,
      (i) => (i % 2 ? 'test.alpha.set' : 'test.beta.set'),
      (i) => (i === 3 ? ['widget', target] : ['thing', `x${i}`]),
    );
    await bulkAudit(
      driver,
      other,
      2,
      () => 'test.alpha.set',
      () => ['widget', target],
    );
    const actions = async (query: string) => [...(await (await browser.fetch(`/admin/audit?${query}`)).text()).matchAll(/data-action="([^"]+)"/g)].map((m) => m[1]);

    expect(await actions(`actor=${actor}`)).toHaveLength(4);
    expect(await actions(`actor=${actor}&action=test.alpha`)).toEqual(['test.alpha.set', 'test.alpha.set']);
    // The prefix is literal and case-sensitive on both databases: no LIKE wildcards.
    expect(await actions(`actor=${actor}&action=test.%25`)).toEqual([]);
    expect(await actions(`actor=${actor}&action=TEST.alpha`)).toEqual([]);
    expect(await actions(`target=${target}`)).toHaveLength(3);
    expect(await actions(`target=widget:${target}`)).toHaveLength(3);
    expect(await actions(`target=thing:${target}`)).toEqual([]);
    expect(await actions(`target=${target}&actor=${other}`)).toHaveLength(2);
    const none = await (await browser.fetch(`/admin/audit?actor=${unique('nobody')}`)).text();
    expect(none).toContain('No audit entries match.');
    expect(none).toContain('Clear filters');
  });

  it('answers 400 to a bad cursor', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    for (const before of ['abc', '-1', '0', '1.5', '9'.repeat(30)]) {
      const r = await browser.fetch(`/admin/audit?before=${encodeURIComponent(before)}`);
      expect(r.status, before).toBe(400);
      expect(await r.text(), before).toContain('is not a valid entry id.');
    }
  });
});
