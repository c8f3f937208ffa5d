import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, makeUser, signedIn, unique, type Driver } from './helpers.ts';
import { addressSpellings, parseUtcDateTime } from '../src/domain/log-search.ts';

const MINUTE = 60_000;

function randomAddresses() {
  const a = Math.floor(Math.random() * 250) + 1;
  const b = Math.floor(Math.random() * 250) + 1;
  const c = Math.floor(Math.random() * 0xfff0) + 1;
  // 198.18.0.0/15 and 2001:db8::/32 are for tests and documentation: no other test uses them.
  return { four: `198.18.${a}.${b}`, six: `2001:db8:${c.toString(16)}::${a.toString(16)}`, sixLong: `2001:0db8:${c.toString(16).padStart(4, '0')}:0:0:0:0:${a.toString(16).padStart(4, '0')}` };
}

async function logged(driver: Driver, row: { user: string; four: string | null; six: string | null; from: number; to: number | null; proto?: 'wireguard' | 'openvpn' }) {
  const db = await dbFor(driver);
  const node = unique('lognode');
  await db.kysely
    .insertInto('connection_log')
    .values({
      user_id: row.user,
      profile_id: 'employees',
      node_id: node,
      vpn_proto: row.proto ?? 'wireguard',
      connection_id: unique('key'),
      ip_four: row.four,
      ip_six: row.six,
      originating_ip: null,
      connected_at: row.from,
      disconnected_at: row.to,
      bytes_in: null,
      bytes_out: null,
    })
    .execute();
  return node;
}

const utc = (ms: number, seconds = false) => new Date(ms).toISOString().slice(0, seconds ? 19 : 16);
const search = (ip: string, at: string) => `/admin/log?${new URLSearchParams({ ip, at })}`;

describe('log search inputs', () => {
  it('parses addresses into their spellings and UTC times into a moment or a minute', () => {
    expect(addressSpellings(' 10.0.0.1 ')).toEqual(['10.0.0.1']);
    expect(addressSpellings('2001:0DB8::0001')).toEqual(['2001:db8::1', '2001:0db8::0001']);
    expect(addressSpellings('10.0.0.256')).toBeNull();
    expect(addressSpellings('')).toBeNull();
    expect(parseUtcDateTime('2025-03-01T12:34')).toEqual({ from: Date.UTC(2025, 2, 1, 12, 34), to: Date.UTC(2025, 2, 1, 12, 35) - 1 });
    expect(parseUtcDateTime('2025-03-01 12:34:56Z')).toEqual({ from: Date.UTC(2025, 2, 1, 12, 34, 56), to: Date.UTC(2025, 2, 1, 12, 34, 56) });
    for (const bad of ['2025-02-30T10:00', '2025-03-01T24:00', '2025-03-01', 'yesterday', '2025-03-01T12:60', '0099-01-01T00:00']) expect(parseUtcDateTime(bad), bad).toBeNull();
  });
});

describe.each(DRIVERS)('connection log search on %s', (driver) => {
  it('finds who had an address at a time, and nobody before or after', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const user = await makeUser(driver);
    const ip = randomAddresses();
    // Connected at hh:mm:30 for ten minutes.
    const from = Math.floor((Date.now() - 3 * 3_600_000) / MINUTE) * MINUTE + 30_000;
    const to = from + 10 * MINUTE;
    const node = await logged(driver, { user, four: ip.four, six: ip.six, from, to, proto: 'openvpn' });

    const during = await browser.fetch(search(ip.four, utc(from + 5 * MINUTE)));
    expect(during.status).toBe(200);
    const html = await during.text();
    const results = html.slice(html.indexOf('<section id="log-results"'));
    expect(results).toContain(`<a href="/admin/users/${user}">${user}</a>`);
    expect(results).toContain(`<td>${node}</td>`);
    expect(results).toContain('<td>employees</td>');
    expect(results).toContain('<td>OpenVPN</td>');
    expect(results).toContain(`<code class="addr">${ip.six}</code>`);
    expect(results).toContain(`<td>${utc(from).replace('T', ' ')}</td>`);
    expect(results).toContain(`<td>${utc(to).replace('T', ' ')}</td>`);

    // By the minute: the minute it began covers its start at :30; to the second it does not.
    expect(await (await browser.fetch(search(ip.four, utc(from)))).text()).toContain(`/admin/users/${user}`);
    for (const at of [utc(from - 1000, true), utc(to + 1000, true), utc(to + MINUTE), utc(from - 2 * MINUTE)]) {
      const r = await browser.fetch(search(ip.four, at));
      expect(r.status, at).toBe(200);
      const text = await r.text();
      expect(text, at).not.toContain(`/admin/users/${user}`);
      expect(text, at).toContain('Nobody had this address at that time.');
    }
    // IPv6, written out in full, finds the same row.
    expect(await (await browser.fetch(search(ip.sixLong, utc(to - MINUTE, true)))).text()).toContain(`/admin/users/${user}`);
  });

  it('finds an open row (still connected) at the default time, now', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const user = await makeUser(driver);
    const ip = randomAddresses();
    await logged(driver, { user, four: ip.four, six: ip.six, from: Date.now() - MINUTE, to: null });
    const form = await (await browser.fetch('/admin/log')).text();
    expect(form).toContain('id="log-ip"');
    expect(form).toMatch(/id="log-at" type="datetime-local" step="1" value="\d{4}-\d\d-\d\dT\d\d:\d\d"/);
    const html = await (await browser.fetch(`/admin/log?ip=${ip.four}&at=`)).text();
    expect(html).toContain(`/admin/users/${user}`);
    expect(html).toContain('still connected');
  });

  it('answers 400 with a message to a bad address or time', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    const badIp = await browser.fetch(search('10.0.0.300', '2025-01-01T10:00'));
    expect(badIp.status).toBe(400);
    const text = await badIp.text();
    expect(text).toContain('role="alert"');
    expect(text).toContain('&quot;10.0.0.300&quot; is not a valid IPv4 or IPv6 address.');
    expect(text).toContain('aria-invalid="true"');
    const badTime = await browser.fetch(search('10.0.0.1', '2025-02-30T10:00'));
    expect(badTime.status).toBe(400);
    expect(await badTime.text()).toContain('is not a valid date and time; use YYYY-MM-DD HH:MM (UTC).');
    expect((await browser.fetch('/admin/log?ip=')).status).toBe(400);
    expect((await browser.fetch(`/admin/log?ip=${'9'.repeat(5000)}&at=x`)).status).toBe(400);
  });

  it('speaks Dutch', async () => {
    const { browser } = await signedIn(driver, { admin: true });
    browser.cookies.set('L', 'nl');
    const html = await (await browser.fetch(search('bad', 'bad'))).text();
    expect(html).toContain('<h1>Verbindingslog</h1>');
    expect(html).toContain('&quot;bad&quot; is geen geldig IPv4- of IPv6-adres.');
  });
});
