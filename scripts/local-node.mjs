// The local node of `npm start` (the single-server shape): enrolled once through the portal's
// own API, then run as the real agent with the real WireGuard backend, when this machine allows.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { root } from './lib.mjs';

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
  return (path, body) => call(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-csrf-token': token }, body: JSON.stringify(body) });
}

/**
 * Enrolls the node "local" on first run (the admin then assigns profiles to it), and starts
 * its agent. Returns the child process, or null with the reason printed.
 */
export async function startLocalNode(origin, dataDir, firstRunPassword) {
  const nodeDir = join(dataDir, 'node');
  const credentialFile = join(nodeDir, 'node-credential');
  const blockers = localNodeBlockers();
  if (blockers.length) {
    console.log('Local node: not started; this machine lacks ' + blockers.join(', ') + '.');
    console.log('  Enroll a node elsewhere: POST /admin/api/nodes, then /admin/api/nodes/<id>/enrollment (infra/README.md).');
    return null;
  }
  if (!existsSync(credentialFile)) {
    if (!firstRunPassword) {
      console.log('Local node: not enrolled (it is enrolled on the first run only); see infra/README.md to enroll one.');
      return null;
    }
    mkdirSync(nodeDir, { recursive: true, mode: 0o700 });
    const api = await adminSession(origin, firstRunPassword);
    await api('/admin/api/nodes', { id: 'local', name: 'local', host_name: '127.0.0.1', profiles: [] });
    const { command } = await (await api('/admin/api/nodes/local/enrollment', {})).json();
    const r = spawnSync('node', [join(root, 'node-agent/dist/edgeport-agent.mjs'), ...command.split(' ').slice(1), '--credential-file', credentialFile], { encoding: 'utf8' });
    if (r.status !== 0) {
      console.log(`Local node: enrollment failed: ${r.stderr}`);
      return null;
    }
  }
  const agent = spawn('node', [join(root, 'node-agent/dist/edgeport-agent.mjs'), 'run'], {
    env: {
      PATH: process.env.PATH,
      EDGEPORT_PORTAL_URLS: origin,
      EDGEPORT_NODE_ID: 'local',
      EDGEPORT_CREDENTIAL_FILE: credentialFile,
      EDGEPORT_STATE_DIR: join(nodeDir, 'state'),
      EDGEPORT_RUN_DIR: join(nodeDir, 'run'),
      EDGEPORT_WG_INTERFACE: 'edgeport0',
      EDGEPORT_METRICS_ADDR: '127.0.0.1:9570',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  console.log('Local node "local": agent running (WireGuard interface edgeport0, metrics http://127.0.0.1:9570/metrics).');
  console.log(`  Add a profile at ${origin}/admin/profiles/new, then tick it for this node at ${origin}/admin/nodes/local.`);
  return agent;
}
