import { isolated } from '../src/views/chart.tsx';
import { describe, expect, it } from 'vitest';
import { provision } from './connect-helpers.ts';
import { Browser, DRIVERS, dbFor, makeUser, signedIn, unique, type Driver } from './helpers.ts';
import { onSessionsReport } from '../src/channel/openvpn-events.ts';
import { recordSessions } from '../src/store/connection-log.ts';
import { activeAuthorizationsPerClient, uniqueUsersPerDay } from '../src/store/stats.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The HTML of one <section id="…"> of a page (sections are not nested). */
export function section(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}"`);
  if (start < 0) throw new Error(`no section #${id}`);
  return html.slice(start, html.indexOf('</section>', start));
}

/** The text of the cells of the table row carrying `attr`. */
function rowCells(html: string, attr: string): string[] {
  const start = html.indexOf(attr);
  if (start < 0) return [];
  const row = html.slice(start, html.indexOf('</tr>', start));
  return [...row.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((m) => (m[1] ?? '').replace(/<[^>]+>/g, '').trim());
}

async function waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
  let v = await read();
  for (let i = 0; i < 60 && !done(v); i++) {
    await new Promise((r) => setTimeout(r, 50));
    v = await read();
  }
  return v;
}

async function logRow(driver: Driver, row: { user: string; node: string; profile?: string; from: number; to: number | null }) {
  const db = await dbFor(driver);
  await db.kysely
    .insertInto('connection_log')
    .values({
      user_id: row.user,
      profile_id: row.profile ?? 'p',
      node_id: row.node,
      vpn_proto: 'openvpn',
      connection_id: unique('cn'),
      ip_four: null,
      ip_six: null,
      originating_ip: null,
      connected_at: row.from,
      disconnected_at: row.to,
      bytes_in: null,
      bytes_out: null,
    })
    .execute();
}

describe.each(DRIVERS)('statistics page on %s', (driver) => {
  it('charts a node report and stored minutes: one line per profile and per node, with the maxima', async () => {
    // On D1 the report travels through the real NodeChannel; the object writes to its own
    // binding (D1), so on MySQL the same frame goes to the handler the object calls.
    const { admin, agent, profileId, nodeId } = await provision(driver, {}, {}, driver === 'd1');
    const db = await dbFor(driver);
    const now = Date.now();
    const frame = {
      type: 'sessions' as const,
      at: now,
      counts: [
        { profile_id: profileId, protocol: 'wireguard' as const, count: 2 },
        { profile_id: profileId, protocol: 'openvpn' as const, count: 3 },
      ],
      peers: [],
      clients: [],
    };
    if (agent) agent.socket.send(frame);
    else await onSessionsReport(db, nodeId, frame);
    const stored = await waitFor(
      () => db.kysely.selectFrom('session_stats').selectAll().where('node_id', '=', nodeId).execute(),
      (rows) => rows.length === 2,
    );
    expect(stored.map((r) => r.sessions).sort()).toEqual([2, 3]);
    // A second profile on the same node, earlier: two minutes in one 5-minute bucket keep the
    // higher; the next bucket continues the line; a lone bucket half an hour before is a dot.
    const other = unique('statsprof');
    const earlier = Math.floor((now - 60 * MINUTE) / (5 * MINUTE)) * 5 * MINUTE;
    await recordSessions(db, nodeId, earlier, [{ profile_id: other, protocol: 'wireguard', count: 4 }]);
    await recordSessions(db, nodeId, earlier + MINUTE, [{ profile_id: other, protocol: 'wireguard', count: 7 }]);
    await recordSessions(db, nodeId, earlier + 5 * MINUTE, [{ profile_id: other, protocol: 'wireguard', count: 6 }]);
    await recordSessions(db, nodeId, earlier - 30 * MINUTE, [{ profile_id: other, protocol: 'openvpn', count: 1 }]);

    const r = await admin.fetch(`/admin/stats?node=${nodeId}`);
    expect(r.status).toBe(200);
    const html = await r.text();
    const sessions = section(html, 'sessions-chart');
    expect(sessions).toContain('<svg');
    expect(sessions).toMatch(/role="img" aria-labelledby="sessions-chart-svg-title sessions-chart-svg-desc"/);
    expect(sessions).toContain('<title id="sessions-chart-svg-title">Concurrent sessions per profile</title>');
    expect(sessions).toMatch(new RegExp(`<path class="series s\\d" data-series="${profileId}" d="M[\\d.]+ [\\d.]+`));
    expect(sessions).toMatch(new RegExp(`<path class="series s\\d" data-series="${other}" d="M[\\d.]+ [\\d.]+ l0 0 M[\\d.]+ [\\d.]+ L[\\d.]+ [\\d.]+"`));
    expect(sessions).toContain('Peak: 7.');
    expect(rowCells(section(html, 'max-sessions'), `data-profile="${profileId}"`)[1]).toBe('5');
    expect(rowCells(section(html, 'max-sessions'), `data-profile="${other}"`)[1]).toBe('7');
    // The legend names each series with its maximum; the table fallback has the numbers.
    expect(sessions).toMatch(new RegExp(`data-series="${other}">[\\s\\S]*?max 7`));
    expect(sessions).toContain('<details>');
    const nodes = section(html, 'nodes-chart');
    expect(nodes).toMatch(new RegExp(`<path class="series s\\d" data-series="${nodeId}"`));
    expect(nodes).toContain('max 7');

    // The profile filter keeps only that profile's line.
    const filtered = section(await (await admin.fetch(`/admin/stats?profile=${other}&period=7d`)).text(), 'sessions-chart');
    expect(filtered).toContain(`data-series="${other}"`);
    expect(filtered).not.toContain(`data-series="${profileId}"`);
    agent?.close();
  });

  it('validates the period and the filters: 400, not 500', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const bad = await browser.fetch('/admin/stats?period=1y');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('Unknown period &quot;1y&quot;: use 24h, 7d or 30d.');
    expect((await browser.fetch(`/admin/stats?profile=${'x'.repeat(300)}`)).status).toBe(400);
    const def = await (await browser.fetch('/admin/stats')).text();
    expect(def).toMatch(/<option value="24h" selected="">/);
    for (const period of ['24h', '7d', '30d']) {
      const r = await browser.fetch(`/admin/stats?period=${period}`);
      expect(r.status, period).toBe(200);
      const html = await r.text();
      expect(html).toMatch(new RegExp(`<option value="${period}" selected="">`));
      expect(html).toContain(`href="/admin/stats.csv?period=${period}&amp;kind=sessions"`);
      // 24 hours touch 2 UTC days, 7 days 8, 30 days 31.
      expect(section(html, 'users-per-day').match(/<tr data-key=/g), period).toHaveLength({ '24h': 2, '7d': 8, '30d': 31 }[period] as number);
    }
  });

  it('counts distinct users per UTC day from the connection log', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const node = unique('statsnode');
    const day = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((x) => unique(`u${x}`)) as [string, string, string, string];
    await logRow(driver, { user: a, node, from: day + 3_600_000, to: day + 7_200_000 });
    await logRow(driver, { user: a, node, from: day + 5 * 3_600_000, to: day + 6 * 3_600_000 });
    await logRow(driver, { user: b, node, from: day + 3 * 3_600_000, to: day + 4 * 3_600_000 });
    // Spans midnight: counts for both days.
    await logRow(driver, { user: c, node, from: day - 3_600_000, to: day + 3_600_000 });
    // Still open: counts for every day since.
    await logRow(driver, { user: d, node, from: day + DAY + 60_000, to: null });

    const db = await dbFor(driver);
    expect(await uniqueUsersPerDay(db, [day - DAY, day, day + DAY, day + 2 * DAY], { nodeId: node })).toEqual([
      { day: day - DAY, users: 1 },
      { day, users: 3 },
      { day: day + DAY, users: 1 },
      { day: day + 2 * DAY, users: 1 },
    ]);
    const html = section(await (await browser.fetch(`/admin/stats?period=7d&node=${node}`)).text(), 'users-per-day');
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(rowCells(html, `data-key="${iso(day)}"`)).toEqual([iso(day), '3', '']);
    expect(rowCells(html, `data-key="${iso(day - DAY)}"`)[1]).toBe('1');
    expect(rowCells(html, `data-key="${iso(day - 3 * DAY)}"`)[1]).toBe('0');
    // 7 days back from now touch 8 UTC days.
    expect(html.match(/<tr data-key=/g)).toHaveLength(8);
  });

  it('shows app usage: active authorizations per client with the client name', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const clientId = unique('org.example.stats');
    const now = Date.now();
    await db.kysely
      .insertInto('oauth_clients')
      .values({ id: clientId, name: 'Stats Test App', redirect_uris: '["http://127.0.0.1:{PORT}/callback"]', requires_approval: 1, created_at: now })
      .execute();
    const user = await makeUser(driver);
    const auth = (expiresAt: number) => ({ id: unique('auth'), user_id: user, client_id: clientId, scope: 'config', created_at: now, expires_at: expiresAt, refresh_seq: 0, last_used_at: null });
    await db.kysely
      .insertInto('oauth_authorizations')
      .values([...Array.from({ length: 9 }, () => auth(now + DAY)), auth(now - 1000)])
      .execute();

    expect((await activeAuthorizationsPerClient(db, Date.now())).find((x) => x.clientId === clientId)).toEqual({ clientId, count: 9 });
    const html = section(await (await browser.fetch('/admin/stats')).text(), 'app-usage');
    expect(rowCells(html, `data-key="${clientId}"`).slice(0, 2)).toEqual(['Stats Test App', '9']);
    expect(html).toMatch(new RegExp(`<tr data-key="${clientId}">[\\s\\S]*?<rect class="bar"`));
  });

  it('is for administrators only: 403 for users, sign-in for anonymous visitors', async () => {
    const { browser } = await signedIn(driver);
    for (const path of ['/admin/stats', '/admin/stats?period=7d', '/admin/stats.csv?kind=apps', '/admin/stats.csv?kind=sessions&period=30d', '/admin/log', '/admin/log?ip=10.0.0.1', '/admin/audit']) {
      const r = await browser.fetch(path);
      expect(r.status, path).toBe(403);
      expect(r.headers.get('content-type'), path).not.toContain('text/csv');
    }
    const anonymous = await new Browser(driver).fetch('/admin/stats.csv?kind=apps');
    expect([302, 303]).toContain(anonymous.status);
    expect(anonymous.headers.get('location')).toContain('/login');
  });
});

describe('chart points', () => {
  it('marks values with gaps on both sides, which a line alone would not draw', () => {
    expect(isolated([null, 1, null, 2, 3, null, 4])).toEqual([1, 6]);
    expect(isolated([5])).toEqual([0]);
    expect(isolated([1, 2])).toEqual([]);
  });
});
