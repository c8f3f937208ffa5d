import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, makeUser, signedIn, unique } from './helpers.ts';
import { recordSessions } from '../src/store/connection-log.ts';
import { csvCell, toCsv } from '../src/views/admin-stats-csv.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

describe('CSV cells', () => {
  it('quotes as RFC 4180 says and defuses formulas', () => {
    expect(csvCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    for (const lead of ['=', '+', '-', '@', '\t', '\r']) expect(csvCell(`${lead}SUM(A1)`).startsWith(`'${lead}`) || csvCell(`${lead}SUM(A1)`).startsWith(`"'${lead}`)).toBe(true);
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe('"\'=HYPERLINK(""http://x"",""y"")"');
    // Numbers are data, written as they are.
    expect(csvCell(-1)).toBe('-1');
    expect(
      toCsv(
        ['a', 'b'],
        [
          [1, 'x'],
          [2, 'y,z'],
        ],
      ),
    ).toBe('a,b\r\n1,x\r\n2,"y,z"\r\n');
  });
});

describe.each(DRIVERS)('statistics CSV export on %s', (driver) => {
  it('exports the sessions per profile and interval, with the filters', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const node = unique('csvnode');
    const profile = unique('csvprof');
    const hour = Math.floor((Date.now() - 3 * 3_600_000) / 3_600_000) * 3_600_000;
    await recordSessions(db, node, hour + 5 * MINUTE, [
      { profile_id: profile, protocol: 'wireguard', count: 4 },
      { profile_id: profile, protocol: 'openvpn', count: 1 },
    ]);
    await recordSessions(db, node, hour + 20 * MINUTE, [{ profile_id: profile, protocol: 'wireguard', count: 2 }]);
    await recordSessions(db, node, hour + 65 * MINUTE, [{ profile_id: profile, protocol: 'wireguard', count: 3 }]);

    const r = await browser.fetch(`/admin/stats.csv?kind=sessions&period=7d&node=${node}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="edgeport-sessions-7d.csv"');
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    // Hourly buckets for 7 days; each keeps its highest minute (4 + 1 at :05 beats 2 at :20).
    expect(await r.text()).toBe(`interval_start_utc,profile_id,max_concurrent_sessions\r\n${iso(hour)},${profile},5\r\n${iso(hour + 3_600_000)},${profile},3\r\n`);
    // 24 hours: 5-minute buckets, default period.
    const day = await browser.fetch(`/admin/stats.csv?kind=sessions&profile=${profile}`);
    expect(day.headers.get('content-disposition')).toBe('attachment; filename="edgeport-sessions-24h.csv"');
    expect((await day.text()).split('\r\n')).toEqual([
      'interval_start_utc,profile_id,max_concurrent_sessions',
      `${iso(hour + 5 * MINUTE)},${profile},5`,
      `${iso(hour + 20 * MINUTE)},${profile},2`,
      `${iso(hour + 65 * MINUTE)},${profile},3`,
      '',
    ]);
  });

  it('exports unique users per day', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const node = unique('csvnode');
    const today = Math.floor(Date.now() / DAY) * DAY;
    for (const [user, from, to] of [
      ['u1', today - 5 * DAY + 1000, today - 5 * DAY + 2000],
      ['u2', today - 5 * DAY + 3000, today - 4 * DAY + 1000],
      ['u1', today - 5 * DAY + 5000, today - 5 * DAY + 6000],
    ] as const) {
      await db.kysely
        .insertInto('connection_log')
        .values({
          user_id: `${node}-${user}`,
          profile_id: 'p',
          node_id: node,
          vpn_proto: 'wireguard',
          connection_id: unique('k'),
          ip_four: null,
          ip_six: null,
          originating_ip: null,
          connected_at: from,
          disconnected_at: to,
          bytes_in: null,
          bytes_out: null,
        })
        .execute();
    }
    const r = await browser.fetch(`/admin/stats.csv?kind=users&period=7d&node=${node}`);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="edgeport-users-7d.csv"');
    const lines = (await r.text()).split('\r\n');
    const d = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(lines[0]).toBe('day_utc,unique_users');
    expect(lines).toHaveLength(1 + 8 + 1);
    expect(lines).toContain(`${d(today - 5 * DAY)},2`);
    expect(lines).toContain(`${d(today - 4 * DAY)},1`);
    expect(lines).toContain(`${d(today)},0`);
  });

  it('exports app usage with every client, quoted and defused', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const db = await dbFor(driver);
    const clientId = unique('-evil.client');
    const now = Date.now();
    await db.kysely.insertInto('oauth_clients').values({ id: clientId, name: '=HYPERLINK("http://x","y"), ok', redirect_uris: '[]', requires_approval: 1, created_at: now }).execute();
    const user = await makeUser(driver);
    await db.kysely
      .insertInto('oauth_authorizations')
      .values([1, 2].map(() => ({ id: unique('auth'), user_id: user, client_id: clientId, scope: 'config', created_at: now, expires_at: now + DAY, refresh_seq: 0, last_used_at: null })))
      .execute();
    const r = await browser.fetch('/admin/stats.csv?kind=apps&period=30d');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toBe('attachment; filename="edgeport-apps-30d.csv"');
    const text = await r.text();
    expect(text.startsWith('client_id,client_name,active_authorizations\r\n')).toBe(true);
    expect(text).toContain(`\r\n'${clientId},"'=HYPERLINK(""http://x"",""y""), ok",2\r\n`);
  });

  it('answers 400 to an unknown kind or period', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    for (const path of ['/admin/stats.csv', '/admin/stats.csv?kind=passwords', '/admin/stats.csv?kind=apps&period=forever']) {
      const r = await browser.fetch(path);
      expect(r.status, path).toBe(400);
      expect(r.headers.get('content-type'), path).toContain('text/html');
    }
    expect(await (await browser.fetch('/admin/stats.csv?kind=x')).text()).toContain('Unknown export &quot;x&quot;: use sessions, users or apps.');
  });
});
