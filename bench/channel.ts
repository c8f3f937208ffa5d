// `npx tsx bench/channel.ts [reports]`: how many session reports one NodeChannel object takes per
// second, in workerd through Miniflare's API, with the production bundle. Reports are sent as
// fast as the socket takes them; a need_snapshot at the end is answered only after every report
// before it was handled (one socket delivers in order), which closes the measurement.

import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { makeSecrets } from '../scripts/secrets.ts';
import { x25519PublicKey } from '../node-agent/src/wireguard/keys.ts';
import { buildBundle } from './support/bundle.ts';
import { ORIGIN, portalMiniflare, SETUP_TOKEN } from './support/portal.ts';
import { record } from './support/report.ts';

const REPORTS = Number(process.argv[2] ?? 5000);

// No KeyObject export (Node 20 can deadlock in it under GC): see node-agent's x25519PublicKey.
const wgKey = x25519PublicKey;

const out = buildBundle();
const mf = portalMiniflare(out, await makeSecrets());

try {
  // Admin, a node and its credential, through the portal's own API.
  const cookies = new Map<string, string>();
  const call = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers as HeadersInit);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await mf.dispatchFetch(ORIGIN + path, { ...(init as object), headers, redirect: 'manual' } as never);
    for (const line of r.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return r;
  };
  const csrf = async (path: string) => (await (await call(path)).text()).match(/name="_csrf" value="([^"]+)"/)?.[1] as string;
  await call('/setup', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: 'bench admin password' }) });
  await call('/login', { method: 'POST', body: new URLSearchParams({ _csrf: await csrf('/login'), user: 'admin', password: 'bench admin password', next: '/' }) });
  const token = await csrf('/');
  const api = (path: string, body: unknown) => call(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify(body) });
  await api('/admin/api/profiles', { id: 'bench', display_name: 'Bench', host_name: 'vpn.example.org', wireguard: { range_four: '10.128.0.0/16', range_six: 'fd80::/64' } });
  await api('/admin/api/nodes', { id: 'node0', name: 'node0', host_name: 'node0.example.org', profiles: [{ profile_id: 'bench' }] });
  const { token: enrollment } = (await (await api('/admin/api/nodes/node0/enrollment', {})).json()) as { token: string };
  const { credential } = (await (
    await call('/node/enroll', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: 'node0', token: enrollment }) })
  ).json()) as { credential: string };

  const upgrade = await mf.dispatchFetch(`${ORIGIN}/node/ws`, { headers: { upgrade: 'websocket', authorization: `Bearer ${credential}`, 'x-edgeport-node': 'node0' } });
  const ws = upgrade.webSocket;
  if (!ws) throw new Error(`upgrade: ${upgrade.status}`);
  ws.accept();
  const snapshots: number[] = [];
  let resolveSnapshot: (() => void) | null = null;
  ws.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as { type: string };
    if (m.type === 'snapshot') {
      snapshots.push(performance.now());
      resolveSnapshot?.();
    }
  });
  const nextSnapshot = () => new Promise<void>((r) => (resolveSnapshot = r));
  let waiting = nextSnapshot();
  ws.send(JSON.stringify({ type: 'hello', protocol: 1, node_id: 'node0', agent_version: 'bench', applied_revision: null, wg_public_key: wgKey(), capabilities: ['wireguard'] }));
  await waiting;

  // A realistic report: 50 peers with counters, counts per profile and protocol.
  const peers = Array.from({ length: 50 }, () => ({ public_key: wgKey(), last_handshake: Date.now(), rx: 123456, tx: 654321 }));
  const report = JSON.stringify({ type: 'sessions', at: Date.now(), counts: [{ profile_id: 'bench', protocol: 'wireguard', count: 50 }], peers, clients: [] });
  const lines: string[] = [
    `NodeChannel session reports: ${REPORTS} reports of 50 peers (${report.length} bytes each) on one socket, one object, production bundle in Miniflare.`,
    '',
    '| run | reports/s | MB/s |',
    '|---|---|---|',
  ];
  for (const run of [1, 2]) {
    waiting = nextSnapshot();
    const t0 = performance.now();
    for (let i = 0; i < REPORTS; i++) ws.send(report);
    ws.send(JSON.stringify({ type: 'need_snapshot', reason: 'bench marker' }));
    await waiting;
    const s = (performance.now() - t0) / 1000;
    lines.push(`| ${run} | ${(REPORTS / s).toFixed(0)} | ${((REPORTS * report.length) / s / 1e6).toFixed(1)} |`);
  }
  lines.push('', 'Each report updates the node status in the database at most every 5 s (throttled); the rest is parsing and validation in the object.');
  console.log(lines.join('\n'));
  record('node channel', lines);
  ws.close();
} finally {
  await mf.dispose();
  rmSync(out, { recursive: true, force: true });
}
