import { expect } from 'vitest';
import { dbFor, unique, type Browser, type Driver } from './helpers.ts';

let block = Math.floor(Math.random() * 200);
const random = (n: number) => Math.floor(Math.random() * n);

/**
 * A profile with both protocols and fresh ranges, made through the JSON API: WireGuard as the
 * other tests pick theirs, OpenVPN a random /26 of 172.24.0.0/13, which no other test uses.
 */
export async function makeProfile(admin: Browser): Promise<string> {
  const n = (block = (block + 1) % 250);
  const m = random(250);
  const id = unique('np');
  const r = await admin.api('POST', '/admin/api/profiles', {
    id,
    display_name: 'Staff',
    host_name: 'vpn.example.org',
    wireguard: { range_four: `10.${m}.${n}.0/24`, range_six: `fd30:${m.toString(16)}:${n.toString(16)}::/64` },
    openvpn: {
      range_four: `172.${24 + random(8)}.${random(256)}.${random(4) * 64}/26`,
      range_six: `fd31:${random(65536).toString(16)}:${random(65536).toString(16)}::/64`,
      udp_ports: [1194],
      tcp_ports: [1194],
    },
  });
  expect(r.status, await r.clone().text()).toBe(201);
  return id;
}

/** A node without WireGuard key, enrollment or connection. */
export async function makeNode(admin: Browser, profiles: Record<string, unknown>[] = []): Promise<string> {
  const id = unique('nn');
  const r = await admin.api('POST', '/admin/api/nodes', { id, name: id, host_name: `${id}.example.org`, profiles });
  expect(r.status, await r.clone().text()).toBe(201);
  return id;
}

/** Own node ranges out of the CGNAT block, which no other test uses. */
export function ownRanges() {
  const a = 64 + Math.floor(Math.random() * 64);
  const b = Math.floor(Math.random() * 256);
  const c = Math.floor(Math.random() * 16) * 16;
  const six = `fd64:${a.toString(16)}${b.toString(16)}:${c.toString(16)}`;
  return {
    wireguard: { range_four: `100.${a}.${b}.${c}/28`, range_six: `${six}:1::/64` },
    openvpn: { range_four: `100.${a}.${b + 1 > 255 ? 0 : b + 1}.${c}/28`, range_six: `${six}:2::/64` },
  };
}

/** The one table row with this id (rows never nest). */
export function rowOf(html: string, id: string): string {
  const start = html.indexOf(`<tr id="${id}"`);
  if (start < 0) throw new Error(`no row ${id}`);
  return html.slice(start, html.indexOf('</tr>', start) + 5);
}

export function csrfOf(html: string): string {
  const m = html.match(/name="_csrf" value="([^"]+)"/);
  if (!m?.[1]) throw new Error('no CSRF field');
  return m[1];
}

export async function auditActions(driver: Driver, targetId: string): Promise<string[]> {
  const db = await dbFor(driver);
  const rows = await db.kysely.selectFrom('audit_log').select('action').where('target_id', '=', targetId).orderBy('id').execute();
  return rows.map((r) => r.action);
}

/** Asks `probe` until it returns true, as the page's 2 s polling would, for at most `ms`. */
export async function eventually(probe: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}
