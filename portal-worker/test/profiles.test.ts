import { describe, expect, it } from 'vitest';
import { DRIVERS, dbFor, signedIn, unique, type Browser, type Driver } from './helpers.ts';

let octet = Math.floor(Math.random() * 200);
/** Fresh, non-overlapping ranges per profile so tests never collide with each other. */
function ranges() {
  const n = (octet = (octet + 1) % 250);
  const m = Math.floor(Math.random() * 250);
  return {
    wireguard: { range_four: `10.${m}.${n}.0/24`, range_six: `fd00:${m.toString(16)}:${n.toString(16)}::/64`, port: 51820 },
    openvpn: { range_four: `172.16.${n}.0/24`, range_six: `fd01:${m.toString(16)}:${n.toString(16)}::/64`, udp_ports: [1194, 1195, 1196], tcp_ports: [1194] },
  };
}

function profileBody(extra: Record<string, unknown> = {}) {
  return { id: unique('p'), display_name: 'Employees', host_name: 'vpn.example.org', dns_servers: ['9.9.9.9', '2620:fe::fe'], ...ranges(), ...extra };
}

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  request_id: string;
  errors?: { path: string; message: string }[];
}

async function problem(r: Response): Promise<Problem> {
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  return r.json<Problem>();
}

async function countRows(driver: Driver, table: 'profiles' | 'audit_log'): Promise<number> {
  const db = await dbFor(driver);
  const row = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe.each(DRIVERS)('profile CRUD on %s', (driver) => {
  it('creates, reads, lists, updates and deletes a profile, auditing each change', async () => {
    const { browser: b, id: adminId } = await signedIn(driver, { admin: true });
    const body = profileBody({ acl_permissions: ['staff'], routes: ['192.0.2.0/24'], exclude_routes: ['192.0.2.128/25'] });

    const created = await b.api('POST', '/admin/api/profiles', body);
    expect(created.status).toBe(201);
    const saved = await created.json<Record<string, unknown>>();
    expect(saved).toMatchObject({ ...body, default_gateway: true, preferred_proto: 'openvpn', dns_search_domains: [] });

    const read = await b.api('GET', `/admin/api/profiles/${body.id}`);
    expect(await read.json()).toEqual(saved);
    const list = await (await b.api('GET', '/admin/api/profiles')).json<{ profiles: { id: string }[] }>();
    expect(list.profiles.map((p) => p.id)).toContain(body.id);

    const { id: _id, ...withoutId } = body;
    const updated = await b.api('PUT', `/admin/api/profiles/${body.id}`, { ...withoutId, display_name: 'Staff', openvpn: null, preferred_proto: 'wireguard' });
    expect(updated.status).toBe(200);
    expect(await updated.json()).toMatchObject({ id: body.id, display_name: 'Staff', openvpn: null, preferred_proto: 'wireguard' });
    expect(await (await b.api('GET', `/admin/api/profiles/${body.id}`)).json()).toMatchObject({ display_name: 'Staff', openvpn: null });

    const deleted = await b.api('DELETE', `/admin/api/profiles/${body.id}`);
    expect(deleted.status).toBe(204);
    expect((await b.api('GET', `/admin/api/profiles/${body.id}`)).status).toBe(404);

    const db = await dbFor(driver);
    const audit = await db.kysely.selectFrom('audit_log').selectAll().where('target_id', '=', body.id).orderBy('id').execute();
    expect(audit.map((a) => a.action)).toEqual(['profile.create', 'profile.update', 'profile.delete']);
    expect(audit.every((a) => a.actor_user_id === adminId)).toBe(true);
    expect(JSON.parse(audit[1]?.before_json ?? 'null')).toMatchObject({ display_name: 'Employees' });
    expect(JSON.parse(audit[1]?.after_json ?? 'null')).toMatchObject({ display_name: 'Staff' });
  });

  it('refuses a duplicate id with 409 and keeps the first', async () => {
    const { browser: b } = await signedIn(driver, { admin: true });
    const body = profileBody();
    expect((await b.api('POST', '/admin/api/profiles', body)).status).toBe(201);
    const again = await b.api('POST', '/admin/api/profiles', { ...profileBody(), id: body.id });
    expect(again.status).toBe(409);
    expect((await problem(again)).code).toBe('conflict');
    expect(await (await b.api('GET', `/admin/api/profiles/${body.id}`)).json()).toMatchObject({ wireguard: body.wireguard });
  });

  it('refuses overlapping ranges across profiles', async () => {
    const { browser: b } = await signedIn(driver, { admin: true });
    const first = profileBody();
    expect((await b.api('POST', '/admin/api/profiles', first)).status).toBe(201);
    const r = await b.api('POST', '/admin/api/profiles', profileBody({ wireguard: { ...first.wireguard, range_four: first.wireguard.range_four.replace('/24', '/25') } }));
    expect(r.status).toBe(400);
    const p = await problem(r);
    expect(p.errors?.find((e) => e.path === 'wireguard.range_four')?.message).toContain(`profile "${first.id}"`);
  });
});

describe('profile validation', () => {
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['a malformed CIDR', { wireguard: { range_four: '10.0.0.300/24', range_six: 'fd00:1::/64' } }, 'wireguard.range_four', /valid IPv4 or IPv6/],
    ['host bits set', { wireguard: { range_four: '10.9.9.1/24', range_six: 'fd00:1::/64' } }, 'wireguard.range_four', /did you mean 10\.9\.9\.0\/24/],
    ['v6 where v4 belongs', { wireguard: { range_four: 'fd00:2::/64', range_six: 'fd00:1::/64' } }, 'wireguard.range_four', /IPv4/],
    [
      'ranges overlapping inside one profile',
      { wireguard: { range_four: '10.1.0.0/16', range_six: 'fd00:1::/64' }, openvpn: { range_four: '10.1.2.0/24', range_six: 'fd00:2::/64' } },
      'openvpn.range_four',
      /overlaps wireguard.range_four/,
    ],
    ['three OpenVPN ports', { openvpn: { range_four: '10.2.0.0/24', range_six: 'fd00:3::/64', udp_ports: [1194, 1195], tcp_ports: [443] } }, 'openvpn', /1, 2, 4, 8, 16, 32 or 64/],
    [
      '65 OpenVPN ports',
      { openvpn: { range_four: '10.2.0.0/16', range_six: 'fd00:3::/64', udp_ports: Array.from({ length: 65 }, (_, i) => 2000 + i), tcp_ports: [] } },
      'openvpn.udp_ports',
      /at most 64/i,
    ],
    ['a duplicate port', { openvpn: { range_four: '10.2.0.0/24', range_six: 'fd00:3::/64', udp_ports: [1194, 1194], tcp_ports: [] } }, 'openvpn.udp_ports', /twice/],
    ['a port out of range', { wireguard: { range_four: '10.3.0.0/24', range_six: 'fd00:4::/64', port: 70000 } }, 'wireguard.port', /65535/],
    ['an unknown field', { colour: 'blue' }, 'colour', /unknown field/],
    ['an unknown nested field', { wireguard: { range_four: '10.3.0.0/24', range_six: 'fd00:4::/64', mtu: 1400 } }, 'wireguard', /unknown field/],
    ['no protocol at all', { wireguard: null, openvpn: null }, 'wireguard', /enable WireGuard, OpenVPN or both/],
    ['a bad DNS server', { dns_servers: ['dns.example'] }, 'dns_servers.0', /not an IP address/],
    ['a bad route', { routes: ['10.0.0.0/33'] }, 'routes.0', /prefix length/],
    ['an uppercase id', { id: 'Employees' }, 'id', /lowercase/],
    ['a preferred protocol that is off', { openvpn: null, preferred_proto: 'openvpn' }, 'preferred_proto', /not enabled/],
  ];

  it.each(cases)('answers 400 with the field for %s, and writes nothing', async (_name, patch, path, message) => {
    const { browser: b } = await signedIn('d1', { admin: true });
    const [profilesBefore, auditBefore] = [await countRows('d1', 'profiles'), await countRows('d1', 'audit_log')];
    const r = await b.api('POST', '/admin/api/profiles', profileBody(patch));
    expect(r.status).toBe(400);
    const p = await problem(r);
    expect(p.code).toBe('validation_failed');
    const field = p.errors?.find((e) => e.path === path);
    expect(field, JSON.stringify(p.errors)).toBeDefined();
    expect(field?.message).toMatch(message);
    expect(await countRows('d1', 'profiles')).toBe(profilesBefore);
    expect(await countRows('d1', 'audit_log')).toBe(auditBefore);
  });

  it('answers 415 for a form body and 400 for broken JSON on the API', async () => {
    const { browser: b } = await signedIn('d1', { admin: true });
    const token = await b.csrf('/');
    const form = await b.fetch('/admin/api/profiles', { method: 'POST', headers: { 'x-csrf-token': token }, body: new URLSearchParams({ id: 'x' }) });
    expect(form.status).toBe(415);
    const broken = await b.fetch('/admin/api/profiles', { method: 'POST', headers: { 'x-csrf-token': token, 'content-type': 'application/json' }, body: '{"id": "x",' });
    expect(broken.status).toBe(400);
    expect((await problem(broken)).code).toBe('bad_request');
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const { browser: b } = await signedIn('d1', { admin: true });
    const r = await b.api('POST', '/admin/api/profiles', profileBody({ display_name: 'x'.repeat(70_000) }));
    expect(r.status).toBe(413);
  });

  it('cannot change a profile id through an update', async () => {
    const { browser: b } = await signedIn('d1', { admin: true });
    const body = profileBody();
    expect((await b.api('POST', '/admin/api/profiles', body)).status).toBe(201);
    const r = await b.api('PUT', `/admin/api/profiles/${body.id}`, { ...body, id: 'other' });
    expect(r.status).toBe(400);
    expect((await b.api('GET', '/admin/api/profiles/other')).status).toBe(404);
  });
});

describe('admin pages', () => {
  it('creates a profile through the HTML form and shows field errors on a bad one', async () => {
    const { browser: b } = await signedIn('d1', { admin: true });
    const token = await b.csrf('/admin/profiles/new');
    const id = unique('form');
    const r = ranges();
    const ok = await b.form('/admin/profiles', {
      _csrf: token,
      id,
      display_name: 'From the form',
      host_name: 'vpn.example.org',
      default_gateway: 'on',
      dns_servers: '9.9.9.9, 2620:fe::fe',
      wg_enabled: 'on',
      wg_range_four: r.wireguard.range_four,
      wg_range_six: r.wireguard.range_six,
      wg_port: '51820',
      preferred_proto: 'wireguard',
    });
    expect(ok.status).toBe(303);
    expect(await (await b.api('GET', `/admin/api/profiles/${id}`)).json()).toMatchObject({ id, display_name: 'From the form', openvpn: null });

    const bad = await b.form('/admin/profiles', {
      _csrf: token,
      id: unique('form'),
      display_name: 'Bad',
      host_name: 'vpn.example.org',
      ovpn_enabled: 'on',
      ovpn_range_four: '10.0.0.1/24',
      ovpn_range_six: 'fd00::/64',
      ovpn_udp_ports: '1194, 1195, 1196',
      ovpn_tcp_ports: '',
    });
    expect(bad.status).toBe(400);
    const html = await bad.text();
    expect(html).toContain('did you mean 10.0.0.0/24');
    expect(html).toContain('1, 2, 4, 8, 16, 32 or 64');
    expect(html).toContain('value="Bad"');
  });
});

async function everyAdminRoute(b: Browser, tokenPage = '/') {
  const token = await b.csrf(tokenPage);
  const pages = ['/admin', '/admin/profiles', '/admin/profiles/new', '/admin/profiles/x', '/admin/users', '/admin/audit'];
  const posts = ['/admin/profiles', '/admin/profiles/x', '/admin/profiles/x/delete', '/admin/users', '/admin/users/x/disable', '/admin/users/x/enable'];
  const api: [string, string][] = [
    ['GET', '/admin/api/profiles'],
    ['POST', '/admin/api/profiles'],
    ['GET', '/admin/api/profiles/x'],
    ['PUT', '/admin/api/profiles/x'],
    ['DELETE', '/admin/api/profiles/x'],
    ['GET', '/admin/api/users'],
    ['POST', '/admin/api/users'],
    ['POST', '/admin/api/users/x/disable'],
    ['POST', '/admin/api/users/x/enable'],
    ['GET', '/admin/api/audit'],
    ['GET', '/admin/api/nodes'],
    ['POST', '/admin/api/nodes'],
    ['GET', '/admin/api/nodes/x'],
    ['PUT', '/admin/api/nodes/x'],
    ['DELETE', '/admin/api/nodes/x'],
    ['POST', '/admin/api/nodes/x/enrollment'],
    ['POST', '/admin/api/nodes/x/revoke'],
    ['GET', '/admin/api/oauth-clients'],
    ['POST', '/admin/api/oauth-clients'],
    ['DELETE', '/admin/api/oauth-clients/x'],
  ];
  const out: [string, number][] = [];
  for (const p of pages) out.push([`GET ${p}`, (await b.fetch(p)).status]);
  for (const p of posts) out.push([`POST ${p}`, (await b.form(p, { _csrf: token })).status]);
  for (const [m, p] of api) out.push([`${m} ${p}`, (await b.api(m, p, m === 'GET' || m === 'DELETE' ? undefined : {}, token)).status]);
  return out;
}

describe('admin authorization', () => {
  it('refuses every admin page and API route to a signed-in non-admin with 403', async () => {
    const { browser } = await signedIn('d1');
    const results = await everyAdminRoute(browser);
    expect(results.filter(([, s]) => s !== 403)).toEqual([]);
  });

  it('sends anonymous visitors to the login page, and answers 401 to everything else', async () => {
    const { browser } = await signedIn('d1');
    browser.cookies.delete('edgeport_session');
    const results = await everyAdminRoute(browser, '/login');
    const expected = results.map(([route]): [string, number] => [route, /^GET \/admin(?!\/api)/.test(route) ? 302 : 401]);
    expect(results).toEqual(expected);
  });
});
