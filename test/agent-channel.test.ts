import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpBrowser } from './support/browser.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './support/portal.ts';
import { appAccessToken, appConnect, appDisconnect, wgKey } from './support/app-client.ts';
import { AgentProcess, buildAgent, until } from './support/agent-process.ts';

/**
 * The long-running agent as it ships (the bundled file systemd runs), against the real portal
 * over HTTP and WebSocket, with the fake VPN backend (EDGEPORT_BACKEND=fake), which writes what it
 * holds to <state>/fake-peers.json: snapshots, app connects acknowledged by the agent, a dead node
 * skipped, missed changes delivered on return, restarts, a portal outage, revocation, bad settings.
 */

const execFileP = promisify(execFile);
const WG_KEY = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;
const dir = mkdtempSync(join(tmpdir(), 'ep-agent-channel-'));
// The package's own build command, written to this suite's folder: other suites rebuilding
// node-agent/dist at the same time cannot hand a half-written file to an agent started here.
const AGENT = join(dir, 'edgeport-agent.mjs');
const agents: AgentProcess[] = [];
let portal: Portal;
let portalRunning = false;
let admin: HttpBrowser;

interface Node {
  id: string;
  stateDir: string;
  credentialFile: string;
}

function agentEnv(node: Node, extra: Record<string, string> = {}): Record<string, string> {
  return {
    EDGEPORT_PORTAL_URLS: portal.origin,
    EDGEPORT_NODE_ID: node.id,
    EDGEPORT_CREDENTIAL_FILE: node.credentialFile,
    EDGEPORT_STATE_DIR: node.stateDir,
    EDGEPORT_RUN_DIR: join(node.stateDir, 'run'),
    EDGEPORT_METRICS_ADDR: '127.0.0.1:0',
    EDGEPORT_BACKEND: 'fake',
    EDGEPORT_HEARTBEAT_SECONDS: '1',
    EDGEPORT_SESSIONS_SECONDS: '1',
    ...extra,
  };
}

const peersFile = (n: Node) => join(n.stateDir, 'fake-peers.json');

async function enrolled(id: string, assignment: Record<string, unknown>): Promise<Node> {
  expect((await admin.api('POST', '/admin/api/nodes', { id, name: id, host_name: `${id}.example.org`, profiles: [{ profile_id: 'staff', ...assignment }] })).status).toBe(201);
  const { command } = (await (await admin.api('POST', `/admin/api/nodes/${id}/enrollment`)).json()) as { command: string };
  const node = { id, stateDir: join(dir, id, 'state'), credentialFile: join(dir, id, 'node-credential') };
  await execFileP('node', [AGENT, ...command.split(' ').slice(1), '--credential-file', node.credentialFile]);
  return node;
}

let node1: Node;
let node2: Node;

beforeAll(async () => {
  buildAgent(AGENT);
  portal = await startPortal();
  portalRunning = true;
  await fetch(`${portal.origin}/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: 'agent channel admin password' }),
  });
  admin = new HttpBrowser(portal.origin);
  expect((await admin.login('admin', 'agent channel admin password')).status).toBe(303);
  const profile = { id: 'staff', display_name: 'Staff', host_name: 'vpn.example.org', wireguard: { range_four: '10.60.0.0/24', range_six: 'fd60::/64', port: 51820 } };
  expect((await admin.api('POST', '/admin/api/profiles', profile)).status).toBe(201);
  node1 = await enrolled('node1', {});
  // Only one node may use the profile's own ranges; the second brings its own.
  node2 = await enrolled('node2', { wireguard: { range_four: '10.61.0.0/24', range_six: 'fd61::/64' } });
}, 90_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  if (portalRunning) await portal?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('edgeport-agent run', () => {
  const running = new Map<string, AgentProcess>();

  it('gets each node its snapshot: the fake backend holds the interface, /metrics shows it connected at revision 0', async () => {
    for (const node of [node1, node2]) running.set(node.id, new AgentProcess(AGENT, agents, agentEnv(node)));
    for (const [node, addresses] of [
      [node1, ['10.60.0.1/24', 'fd60::1/64']],
      [node2, ['10.61.0.1/24', 'fd61::1/64']],
    ] as const) {
      const agent = running.get(node.id) as AgentProcess;
      await agent.line('config applied', 20_000, (l) => l.why === 'portal');
      const fake = JSON.parse(readFileSync(peersFile(node), 'utf8'));
      expect(fake).toEqual({ interface: { name: 'wg0', listen_port: 51820, addresses, public_key: expect.stringMatching(WG_KEY) }, peers: [] });
      expect(JSON.parse(readFileSync(join(node.stateDir, 'desired.json'), 'utf8'))).toMatchObject({ node_id: node.id, revision: 0, peers: [] });
      const m = await until('connected and applied in /metrics', 10_000, async () => {
        const m = await agent.metrics();
        return m.get('edgeport_agent_connected') === 1 && m.get('edgeport_agent_applied_revision') === 0 && m;
      });
      expect(m.get('edgeport_agent_info{version="0.1.0"}')).toBe(1);
      expect(m.get('edgeport_agent_reconnects_total')).toBe(0);
      expect(m.get('edgeport_agent_peers')).toBe(0);
      expect(m.get('edgeport_agent_sessions')).toBe(0);
      // The hub learned the node's WireGuard key from the hello sent once the interface existed.
      const view = (await (await admin.api('GET', `/admin/api/nodes/${node.id}`)).json()) as { wg_public_key: string | null };
      expect(view.wg_public_key).toBe(fake.interface.public_key);
      expect(agent.stdout + agent.stderr).not.toContain(readFileSync(node.credentialFile, 'utf8').trim());
    }
  }, 60_000);

  it('restarts with the portal up: applies the saved config before connecting, the tunnels unchanged, and connects again', async () => {
    const before = readFileSync(peersFile(node1), 'utf8');
    const mtime = statSync(peersFile(node1)).mtimeMs;
    const first = running.get(node1.id) as AgentProcess;
    await first.stop('SIGTERM');
    expect(first.exit).toEqual({ code: 0, signal: null });
    expect(first.messages('stopping; tunnels stay up')).toHaveLength(1);

    const again = new AgentProcess(AGENT, agents, agentEnv(node1));
    running.set(node1.id, again);
    const applied = await again.line('config applied', 20_000, (l) => l.why === 'startup');
    expect(applied).toMatchObject({ revision: 0, actions: [] });
    await again.line('connected to the portal');
    // Applied from disk, without the portal: before the first connection attempt.
    expect(again.lines.findIndex((l) => l.msg === 'config applied')).toBeLessThan(again.lines.findIndex((l) => l.msg === 'connecting to the portal'));
    await until('connected again', 10_000, async () => (await again.metrics()).get('edgeport_agent_connected') === 1);
    expect((await again.metrics()).get('edgeport_agent_applied_revision')).toBe(0);
    // The backend already matched: nothing was rewritten.
    expect(readFileSync(peersFile(node1), 'utf8')).toBe(before);
    expect(statSync(peersFile(node1)).mtimeMs).toBe(mtime);
  }, 60_000);

  it('carries app connects: /connect answers after the agent applied the peer; a dead node is skipped; changes made while a node was away reach it when it returns', async () => {
    expect((await admin.api('POST', '/admin/api/users', { id: 'alice', password: 'alice app password', permissions: [] })).status).toBe(201);
    const token = await appAccessToken(portal.origin, 'alice', 'alice app password');
    const peersOf = (n: Node): string[] => (JSON.parse(readFileSync(peersFile(n), 'utf8')) as { peers: { public_key: string }[] }).peers.map((p) => p.public_key);
    const nodeOf = (body: string) => (body.includes('Address = 10.60.') ? node1 : body.includes('Address = 10.61.') ? node2 : null);

    // The shuffle picks a node at random; a new connect of the same app replaces its config.
    const landOnNode1 = async (appToken: string): Promise<string> => {
      for (let i = 0; i < 24; i++) {
        const key = wgKey();
        const t0 = performance.now();
        const r = await appConnect(portal.origin, appToken, 'staff', key);
        const ms = performance.now() - t0;
        expect(r.status).toBe(200);
        const node = nodeOf(r.body) as Node;
        // Read at once: the ack that released the response came after the agent applied and saved it.
        expect(peersOf(node)).toContain(key);
        console.log(`connect to applied on ${node.id}: ${ms.toFixed(1)} ms`);
        if (node === node1) return key;
      }
      throw new Error('24 connects never chose node1');
    };
    const onNode1 = await landOnNode1(token);
    // A live disconnect takes the peer off its node (tracked, not awaited by the app).
    const second = await appAccessToken(portal.origin, 'alice', 'alice app password');
    const secondKey = await landOnNode1(second);
    expect(await appDisconnect(portal.origin, second)).toBe(204);
    await until('the disconnected peer leaves node1', 10_000, () => !peersOf(node1).includes(secondKey));
    expect(peersOf(node1)).toContain(onNode1);

    // node1's agent dies: connects go to node2 only.
    await (running.get(node1.id) as AgentProcess).stop('SIGKILL');
    expect(await appDisconnect(portal.origin, token)).toBe(204);
    const other = await appAccessToken(portal.origin, 'alice', 'alice app password');
    let last = '';
    for (let i = 0; i < 4; i++) {
      last = wgKey();
      const r = await appConnect(portal.origin, other, 'staff', last);
      expect(r.status).toBe(200);
      expect(nodeOf(r.body)).toBe(node2);
      expect(peersOf(node2)).toContain(last);
    }
    expect(peersOf(node2)).toEqual([last]);

    // node1 comes back: it starts from its saved config (the removed peer still there), then the
    // missed delta removes it, exactly once.
    const back = new AgentProcess(AGENT, agents, agentEnv(node1));
    running.set(node1.id, back);
    await back.line('connected to the portal');
    await until('the peer removed while node1 was away is gone', 20_000, () => !peersOf(node1).includes(onNode1));
    expect(peersOf(node1)).toEqual([]);

    // Disabling the user removes its peers from every node.
    expect((await admin.api('POST', '/admin/api/users/alice/disable')).status).toBe(200);
    await until("alice's peer leaves node2", 10_000, () => peersOf(node2).length === 0);
  }, 120_000);

  it('cuts a revoked node off: its agent logs the revocation, waits the 60 s cap and does not hammer; restarted, it is refused and waits the cap again', async () => {
    const agent = running.get(node2.id) as AgentProcess;
    const from = agent.lines.length;
    expect((await admin.api('POST', `/admin/api/nodes/${node2.id}/revoke`)).status).toBe(200);
    expect(await agent.line('the portal refused this node', 10_000, () => true, from)).toMatchObject({ level: 'error', code: 'revoked' });
    const ended = await agent.line('portal connection ended', 10_000, () => true, from);
    expect(ended).toMatchObject({ level: 'error', failure: 'revoked', retry_in_ms: 60_000, retry_ceiling_ms: 60_000 });
    const attemptsBefore = agent.messages('connecting to the portal').length;
    await new Promise((r) => setTimeout(r, 5_000));
    expect(agent.messages('connecting to the portal')).toHaveLength(attemptsBefore);
    expect((await agent.metrics()).get('edgeport_agent_connected')).toBe(0);
    await agent.stop();

    // The credential check refuses the upgrade (401): no retry loop either.
    const restarted = new AgentProcess(AGENT, agents, agentEnv(node2));
    running.set(node2.id, restarted);
    expect(await restarted.line('portal connection ended')).toMatchObject({ failure: 'refused', retry_in_ms: 60_000, detail: expect.stringContaining('HTTP 401') });
    await new Promise((r) => setTimeout(r, 3_000));
    expect(restarted.messages('connecting to the portal')).toHaveLength(1);
    // It still runs the tunnels it had.
    expect(JSON.parse(readFileSync(peersFile(node2), 'utf8')).interface).toMatchObject({ addresses: ['10.61.0.1/24', 'fd61::1/64'] });
  }, 60_000);

  it('survives a portal outage: keeps the tunnels, retries with growing delays, and a restart applies the saved config without the portal', async () => {
    const agent = running.get(node1.id) as AgentProcess;
    const before = readFileSync(peersFile(node1), 'utf8');
    const revision = (JSON.parse(readFileSync(join(node1.stateDir, 'desired.json'), 'utf8')) as { revision: number }).revision;
    const from = agent.lines.length;
    await portal.stop();
    portalRunning = false;
    await agent.line('portal connection ended', 20_000, (l) => l.failure === 'lost', from);
    await until('reconnect attempts counted', 20_000, async () => {
      const m = await agent.metrics();
      return m.get('edgeport_agent_connected') === 0 && (m.get('edgeport_agent_reconnects_total') ?? 0) >= 1;
    });
    await agent.stop();
    expect(agent.exit).toEqual({ code: 0, signal: null });

    const cold = new AgentProcess(AGENT, agents, agentEnv(node1));
    running.set(node1.id, cold);
    expect(await cold.line('config applied', 20_000, (l) => l.why === 'startup')).toMatchObject({ revision });
    const m = await cold.metrics();
    expect(m.get('edgeport_agent_applied_revision')).toBe(revision);
    expect(m.get('edgeport_agent_connected')).toBe(0);
    expect(readFileSync(peersFile(node1), 'utf8')).toBe(before);
    // Full jitter under a ceiling that doubles from 1 s (1+2+4+8 s at worst for four failures).
    const failures = await until('four failed attempts', 30_000, () => {
      const f = cold.messages('portal connection ended');
      return f.length >= 4 && f;
    });
    expect(failures.every((f) => f.failure === 'network')).toBe(true);
    expect(failures.slice(0, 4).map((f) => f.retry_ceiling_ms)).toEqual([1000, 2000, 4000, 8000]);
    for (const f of failures) expect(f.retry_in_ms as number).toBeLessThanOrEqual(Math.min(f.retry_ceiling_ms as number, 60_000));
    expect(cold.exit).toBeNull();
  }, 90_000);
});

describe('edgeport-agent run with a bad setting', () => {
  it.each([
    ['EDGEPORT_METRICS_ADDR', { EDGEPORT_METRICS_ADDR: '0.0.0.0:9570' }],
    ['EDGEPORT_BACKEND', { EDGEPORT_BACKEND: 'imaginary' }],
    ['EDGEPORT_NODE_ID', { EDGEPORT_NODE_ID: '' }],
  ])('exits 2 naming %s', async (name, patch) => {
    const node = { id: 'node9', stateDir: join(dir, 'node9'), credentialFile: join(dir, 'node9-credential') };
    writeFileSync(node.credentialFile, `${'c'.repeat(48)}\n`, { mode: 0o600 });
    const env = { ...agentEnv(node, patch), EDGEPORT_PORTAL_URLS: 'https://portal.example.org' };
    const r = await execFileP('node', [AGENT, 'run'], { env: { PATH: process.env.PATH ?? '', ...env } }).then(
      () => ({ code: 0, stderr: '' }),
      (e: { code: number; stderr: string }) => e,
    );
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stderr.trim())).toMatchObject({ level: 'error', msg: 'configuration error', error: expect.stringContaining(name) });
    expect(existsSync(node.stateDir)).toBe(false);
  });
});
