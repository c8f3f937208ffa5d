// State for bench/pages.ts: profiles, nodes and users through the portal's own API, then the bulk
// rows (configs, connection log, a week of per-minute statistics) inserted directly in SQL, then
// both nodes connected over their NodeChannel with a sessions report, as a live agent leaves them.
import { randomBytes } from 'node:crypto';
import type { Miniflare } from 'miniflare';
import { ORIGIN, Session, SETUP_TOKEN } from './portal.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;

const wgKey = () => randomBytes(32).toString('base64');
const q = (v: string | number | null) => (v === null ? 'null' : typeof v === 'number' ? String(v) : `'${v}'`);

/** profile × node → own IPv4 /16 and IPv6 prefix (a null range means the node uses the profile's). */
const PROFILES = [
  { id: 'staff', four: 10, ranges: { node1: null, node2: 11 } as Record<string, number | null> },
  { id: 'guests', four: 20, ranges: { node1: 21, node2: null } as Record<string, number | null> },
];
const NODES = ['node1', 'node2'];

export interface Arranged {
  admin: Session;
  user: Session;
  rows: { configs: number; users: number; connectionLog: number; sessionStats: number; reportPeers: number };
  close(): void;
}

export async function arrange(mf: Miniflare, configs: number, mysqlDatabase?: string): Promise<Arranged> {
  const admin = new Session(mf);
  const setup = await admin.fetch('/setup', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: 'bench admin password' }),
  });
  if (setup.status !== 201) throw new Error(`setup: ${setup.status} ${await setup.text()}`);
  await admin.login('admin', 'bench admin password');
  const token = await admin.csrf('/');
  const api = async (path: string, body: unknown) => {
    const r = await admin.fetch(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify(body) });
    if (r.status !== 201) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    return r.json() as Promise<Record<string, unknown>>;
  };
  for (const p of PROFILES)
    await api('/admin/api/profiles', {
      id: p.id,
      display_name: p.id,
      host_name: 'vpn.example.org',
      wireguard: { range_four: `10.${p.four}.0.0/16`, range_six: `fd${p.four}::/64` },
      openvpn: null,
      preferred_proto: 'wireguard',
    });
  for (const n of NODES) {
    const profiles = PROFILES.map((p) => ({ profile_id: p.id, wireguard: p.ranges[n] ? { range_four: `10.${p.ranges[n]}.0.0/16`, range_six: `fd${p.ranges[n]}::/64` } : null }));
    await api('/admin/api/nodes', { id: n, name: n, host_name: `${n}.example.org`, wg_public_key: wgKey(), profiles });
  }
  await api('/admin/api/users', { id: 'alice', password: 'bench user password' });

  // Bulk rows, in multi-row INSERTs of at most ~64 kB of SQL.
  const mysql = mysqlDatabase ? await (await import('mysql2/promise')).default.createConnection({ host: '127.0.0.1', user: 'root', database: mysqlDatabase }) : null;
  const d1 = mysql ? null : await mf.getD1Database('DB');
  const insert = async (table: string, columns: string, rows: (string | number | null)[][]) => {
    let chunk: string[] = [];
    let size = 0;
    const flush = async () => {
      if (!chunk.length) return;
      const stmt = `insert into ${table} (${columns}) values ${chunk.join(',')}`;
      if (mysql) await mysql.query(stmt);
      else await d1!.exec(stmt);
      chunk = [];
      size = 0;
    };
    for (const r of rows) {
      const v = `(${r.map(q).join(',')})`;
      chunk.push(v);
      size += v.length;
      if (size > 64_000) await flush();
    }
    await flush();
  };
  const now = Date.now();
  const users = Math.max(1, Math.ceil(configs / 2));
  await insert(
    'users',
    'id, display_name, is_admin, is_disabled, permissions, created_at, last_seen_at',
    Array.from({ length: users }, (_, i) => [`user${i}`, `User ${i}`, 0, 0, '[]', now - 40 * DAY, now]),
  );
  // Config i: profile i % 2, node (i >> 1) % 2, numbered within that (profile, node) range; alice holds three portal configs.
  const peers = Array.from({ length: configs + 3 }, (_, i) => {
    const p = PROFILES[i % 2]!;
    const node = NODES[(i >> 1) % 2]!;
    const net = p.ranges[node] ?? p.four;
    const j = (i >> 2) + 2;
    const created = now - Math.floor((((i * 7919) % 1000) / 1000) * 30 * DAY);
    const user = i < configs ? `user${i >> 1}` : 'alice';
    return {
      key: wgKey(),
      profile: p.id,
      node,
      user,
      row: [0, p.id, node, user, null, `config ${i}`, `10.${net}.${j >> 8}.${j & 255}`, `fd${net}::${j.toString(16)}`, created, now + 90 * DAY] as (string | number | null)[],
    };
  });
  for (const peer of peers) peer.row[0] = peer.key;
  await insert(
    'wg_peers',
    'public_key, profile_id, node_id, user_id, authorization_id, display_name, ip_four, ip_six, created_at, expires_at',
    peers.map((p) => p.row),
  );
  // The connection log: an open row per live config (WireGuard rows span the peer's life), plus closed ones over 30 days.
  const log = peers.map((p) => [p.user, p.profile, p.node, 'wireguard', p.key, p.row[6]!, p.row[7]!, null, p.row[8]!, null, null, null]);
  for (let i = 0; i < 2 * configs; i++) {
    const from = now - Math.floor(Math.random() * 30 * DAY);
    log.push([`user${i % users}`, PROFILES[i % 2]!.id, NODES[(i >> 1) % 2]!, 'wireguard', wgKey(), null, null, '192.0.2.1', from, from + Math.floor(Math.random() * 2 * DAY), 12345, 67890]);
  }
  await insert('connection_log', 'user_id, profile_id, node_id, vpn_proto, connection_id, ip_four, ip_six, originating_ip, connected_at, disconnected_at, bytes_in, bytes_out', log);
  // Seven days of per-minute peaks for every node × profile, a daily wave (up to the minute before this one).
  const stats: (string | number)[][] = [];
  const last = Math.floor(now / MINUTE) * MINUTE - MINUTE;
  for (let m = last - 7 * DAY + MINUTE; m <= last; m += MINUTE) {
    const wave = 0.5 + 0.5 * Math.sin((2 * Math.PI * m) / DAY);
    for (const n of NODES) for (const p of PROFILES) stats.push([n, p.id, 'wireguard', m, Math.round((configs / 8) * wave + Math.random() * 5)]);
  }
  await insert('session_stats', 'node_id, profile_id, vpn_proto, minute, sessions', stats);

  // Both nodes enrolled and connected; each acks its snapshot and reports its peers, half of them in session.
  const sockets: { close(code?: number, reason?: string): void }[] = [];
  let reportPeers = 0;
  for (const n of NODES) {
    const { token: enrollment } = (await api(`/admin/api/nodes/${n}/enrollment`, {})) as { token: string };
    const enrolled = await mf.dispatchFetch(`${ORIGIN}/node/enroll`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: n, token: enrollment }) });
    const { credential } = (await enrolled.json()) as { credential: string };
    const ws = (await mf.dispatchFetch(`${ORIGIN}/node/ws`, { headers: { upgrade: 'websocket', authorization: `Bearer ${credential}`, 'x-edgeport-node': n } })).webSocket;
    if (!ws) throw new Error(`node channel ${n}: no socket`);
    ws.accept();
    let snapshots = 0;
    let wake = () => {};
    ws.addEventListener('message', (e) => {
      const m = JSON.parse(String(e.data)) as { type: string; config?: { revision: number } };
      if (m.type !== 'snapshot') return;
      ws.send(JSON.stringify({ type: 'ack', revision: m.config?.revision }));
      snapshots++;
      wake();
    });
    const snapshot = (count: number) => new Promise<void>((resolve) => (wake = () => snapshots >= count && resolve()));
    let waiting = snapshot(1);
    ws.send(JSON.stringify({ type: 'hello', protocol: 1, node_id: n, agent_version: 'bench', applied_revision: null, wg_public_key: null, capabilities: ['wireguard'] }));
    await waiting;
    const mine = peers.filter((p) => p.node === n);
    const at = Date.now();
    const reported = mine.map((p, i) => ({ public_key: p.key, last_handshake: i % 2 ? at - 30_000 : i % 4 ? at - 3_600_000 : null, rx: 1e6 + i, tx: 2e6 + i }));
    const counts = PROFILES.map((p) => ({ profile_id: p.id, protocol: 'wireguard', count: mine.filter((x, i) => x.profile === p.id && i % 2).length }));
    // One socket delivers in order: the snapshot answering the marker comes after the report was handled.
    waiting = snapshot(2);
    ws.send(JSON.stringify({ type: 'sessions', at, counts, peers: reported, clients: [] }));
    ws.send(JSON.stringify({ type: 'need_snapshot', reason: 'bench marker' }));
    await waiting;
    reportPeers += reported.length;
    sockets.push(ws);
    // The channel throttles status writes (every 5 s); write what the next one would carry, so the nodes page shows it now.
    const status = `update node_status set load_json = '${JSON.stringify({ load_average: [0.4, 0.3, 0.2], cpu_count: 4, uptime_s: 86400 })}', sessions_json = '${JSON.stringify({ at, counts, peers: reported.length, clients: 0 })}' where node_id = '${n}'`;
    if (mysql) await mysql.query(status);
    else await d1!.exec(status);
  }
  await mysql?.end();

  const user = new Session(mf);
  await user.login('alice', 'bench user password');
  return {
    admin,
    user,
    rows: { configs: peers.length, users: users + 2, connectionLog: log.length, sessionStats: stats.length, reportPeers },
    close: () => sockets.forEach((ws) => ws.close(1000, 'bench done')),
  };
}
