// The local node of `npm start` (the single-server shape): set up once through the portal's own
// admin API, then run as the real agent with the real WireGuard and OpenVPN backends, when this
// machine allows.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { isStopping, runChild, startChild } from './children.mjs';
import { root } from './lib.mjs';
import { defaultProfile } from './quick-start.mjs';

const AGENT = join(root, 'node-agent/dist/edgeport-agent.mjs');
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

/** What keeps this machine from running a node, in words a newcomer can act on; [] if nothing. */
export function localNodeBlockers() {
  const missing = [];
  if (process.getuid?.() !== 0) missing.push('root (the agent configures network interfaces)');
  if (!has('wg')) missing.push('the `wg` tool (Debian: wireguard-tools)');
  if (!has('wireguard-go') && spawnSync('ip', ['link', 'add', 'epprobe0', 'type', 'wireguard']).status !== 0) {
    missing.push('kernel WireGuard or `wireguard-go` (Debian: wireguard-go)');
  }
  spawnSync('ip', ['link', 'del', 'epprobe0'], { stdio: 'ignore' });
  if (!existsSync('/dev/net/tun')) missing.push('/dev/net/tun');
  return missing;
}

/** A cookie-keeping admin session against the local portal (first run only: the password is known then). */
async function adminSession(origin, password) {
  const cookies = new Map();
  const call = async (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (cookies.size) headers.set('cookie', [...cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await fetch(origin + path, { ...init, headers, redirect: 'manual' });
    for (const line of r.headers.getSetCookie()) {
      const pair = line.split(';')[0];
      cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return r;
  };
  const csrf = async (path) => (await (await call(path)).text()).match(/name="_csrf" value="([^"]+)"/)?.[1];
  await call('/login', { method: 'POST', body: new URLSearchParams({ _csrf: await csrf('/login'), user: 'admin', password, next: '/' }) });
  const token = await csrf('/');
  return async (path, body) => {
    const r = await call(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`POST ${path}: HTTP ${r.status} ${await r.text()}`);
    return r.json();
  };
}

const nodeDir = (dataDir) => join(dataDir, 'node');
const credentialFile = (dataDir) => join(nodeDir(dataDir), 'node-credential');

/**
 * First run: the default profile, the node "local" serving it (users reach it at `host`), and
 * the node's enrollment. Returns the profile, or null with the reason printed.
 */
export async function setUpLocalNode(origin, dataDir, password, host) {
  const blockers = localNodeBlockers();
  if (blockers.length) {
    console.log('Local node: not set up; this machine lacks ' + blockers.join(', ') + '.');
    console.log('  Enroll a node elsewhere: POST /admin/api/nodes, then /admin/api/nodes/<id>/enrollment (infra/README.md).');
    return null;
  }
  try {
    const api = await adminSession(origin, password);
    const profile = await api('/admin/api/profiles', defaultProfile(host));
    await api('/admin/api/nodes', { id: 'local', name: 'local', host_name: host, profiles: [{ profile_id: profile.id }] });
    const { command } = await api('/admin/api/nodes/local/enrollment', {});
    mkdirSync(nodeDir(dataDir), { recursive: true, mode: 0o700 });
    const enrolled = await runChild('node', [AGENT, ...command.split(' ').slice(1), '--credential-file', credentialFile(dataDir)]);
    if (enrolled.code !== 0) throw new Error(`enrollment failed: ${enrolled.stderr}`);
    return profile;
  } catch (err) {
    console.log(`Local node: first-run set-up failed: ${err.message}`);
    return null;
  }
}

/** One agent log line (JSON) as a person reads it: level, message, then the fields. */
function readable(line) {
  try {
    // The terminal shows when; the rest of the line is what a person needs.
    const { level, msg, time: _time, ...fields } = JSON.parse(line);
    const rest = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
    return `${level === 'info' ? '' : `${String(level).toUpperCase()} `}${msg}${rest}`;
  } catch {
    return line;
  }
}

/** Starts the enrolled local node's agent, its log shown with a prefix. */
export async function startLocalNode(origin, dataDir, profile) {
  if (!existsSync(credentialFile(dataDir))) {
    if (!localNodeBlockers().length) console.log('Local node: not enrolled (that happens on the first run only); see infra/README.md to enroll one.');
    return;
  }
  if (localNodeBlockers().length) return void console.log(`Local node: not started; this machine lacks ${localNodeBlockers().join(', ')}.`);
  const iface = process.env.EDGEPORT_WG_INTERFACE ?? 'edgeport0';
  const metrics = process.env.EDGEPORT_METRICS_ADDR ?? '127.0.0.1:9570';
  // The agent leaves its tunnels up when it stops, as it does under systemd.
  const agent = startChild('node', [AGENT, 'run'], {
    env: {
      PATH: process.env.PATH,
      EDGEPORT_PORTAL_URLS: origin,
      EDGEPORT_NODE_ID: 'local',
      EDGEPORT_CREDENTIAL_FILE: credentialFile(dataDir),
      EDGEPORT_STATE_DIR: join(nodeDir(dataDir), 'state'),
      EDGEPORT_RUN_DIR: join(nodeDir(dataDir), 'run'),
      EDGEPORT_WG_INTERFACE: iface,
      EDGEPORT_METRICS_ADDR: metrics,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [agent.stdout, agent.stderr]) createInterface({ input: stream }).on('line', (l) => console.log(`[node local] ${readable(l)}`));
  agent.once('exit', (code, signal) => {
    if (!isStopping()) console.log(`[node local] the agent exited (${code ?? signal})`);
  });
  console.log(`Local node "local": agent running (WireGuard interface ${iface}, metrics http://${metrics}/metrics); its log lines start with [node local].`);
  if (profile) {
    console.log(`Profile "${profile.display_name}" (id ${profile.id}), served by node "local" at ${profile.host_name}:`);
    console.log(
      `  WireGuard ${profile.wireguard.range_four} port ${profile.wireguard.port}/udp; OpenVPN ${profile.openvpn.range_four} ports ${profile.openvpn.udp_ports.join(',')}/udp ${profile.openvpn.tcp_ports.join(',')}/tcp`,
    );
    console.log(`  Users' devices reach this machine as ${profile.host_name} (set EDGEPORT_HOST before the first run to choose).`);
  }
  console.log(`In the eduVPN or Let's Connect! app: "Add your own server", then type ${origin}/`);
  console.log('  (apps on other devices insist on https: deploy the portal as infra/README.md says, or put a TLS proxy with a real certificate in front of this one).');
  console.log(`More profiles: ${origin}/admin/profiles/new, then tick them for this node at ${origin}/admin/nodes/local.`);
}
