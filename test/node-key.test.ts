import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentProcess, buildAgent, until } from './support/agent-process.ts';
import { HttpBrowser } from './support/browser.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './support/portal.ts';

/**
 * The node's WireGuard key is the node's own report. A node enrolled before its profiles are
 * assigned (the order infra/README.md documents) has no interface, so no key, at its first
 * hello; the key comes with the hello after the first WireGuard profile arrives. Node edits made
 * after that (the JSON API without the field, the node page whose form was rendered before the
 * key arrived) used to write the stale empty key back, and nothing ever told the portal again:
 * /api/v3/connect then answered 503 until the agent was restarted by hand.
 */

const execFileP = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ep-node-key-'));
const AGENT = join(dir, 'edgeport-agent.mjs');
const agents: AgentProcess[] = [];
const PASSWORD = 'node key admin password';
let portal: Portal;
let admin: HttpBrowser;

interface Node {
  id: string;
  stateDir: string;
  agent: AgentProcess;
}

async function enrolledWithoutProfiles(id: string): Promise<Node> {
  expect((await admin.api('POST', '/admin/api/nodes', { id, name: id, host_name: `${id}.example.org`, profiles: [] })).status).toBe(201);
  const { command } = (await (await admin.api('POST', `/admin/api/nodes/${id}/enrollment`)).json()) as { command: string };
  const stateDir = join(dir, id, 'state');
  const credentialFile = join(dir, id, 'node-credential');
  await execFileP('node', [AGENT, ...command.split(' ').slice(1), '--credential-file', credentialFile], { timeout: 30_000 });
  const agent = new AgentProcess(AGENT, agents, {
    EDGEPORT_PORTAL_URLS: portal.origin,
    EDGEPORT_NODE_ID: id,
    EDGEPORT_CREDENTIAL_FILE: credentialFile,
    EDGEPORT_STATE_DIR: stateDir,
    EDGEPORT_RUN_DIR: join(stateDir, 'run'),
    EDGEPORT_METRICS_ADDR: '127.0.0.1:0',
    EDGEPORT_BACKEND: 'fake',
    EDGEPORT_HEARTBEAT_SECONDS: '1',
  });
  await agent.line('config applied', 20_000, (l) => l.why === 'portal');
  return { id, stateDir, agent };
}

const storedKey = async (id: string) => ((await (await admin.api('GET', `/admin/api/nodes/${id}`)).json()) as { wg_public_key: string | null }).wg_public_key;
const nodeKey = (n: Node) => (JSON.parse(readFileSync(join(n.stateDir, 'fake-peers.json'), 'utf8')) as { interface: { public_key: string } }).interface.public_key;
const staff = (n: number) => ({ profile_id: 'staff', wireguard: { range_four: `10.62.${n}.0/24`, range_six: `fd62:${n}::/64` } });

beforeAll(async () => {
  buildAgent(AGENT);
  portal = await startPortal();
  await fetch(`${portal.origin}/setup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: PASSWORD }) });
  admin = new HttpBrowser(portal.origin);
  expect((await admin.login('admin', PASSWORD)).status).toBe(303);
  const profile = { id: 'staff', display_name: 'Staff', host_name: 'vpn.example.org', wireguard: { range_four: '10.62.255.0/24', range_six: 'fd62:ff::/64', port: 51820 } };
  expect((await admin.api('POST', '/admin/api/profiles', profile)).status).toBe(201);
}, 90_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  await portal?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('the node WireGuard key', () => {
  it('is pinned from the hello after the first WireGuard profile arrives, and a later edit through the JSON API without the field keeps it', async () => {
    const n = await enrolledWithoutProfiles('key-api');
    expect(await storedKey(n.id)).toBeNull();
    expect((await admin.api('PUT', `/admin/api/nodes/${n.id}`, { name: n.id, host_name: `${n.id}.example.org`, profiles: [staff(1)] })).status).toBe(200);
    const key = await until('the key pinned', 10_000, () => storedKey(n.id));
    expect(key).toBe(nodeKey(n));
    // A second edit (a new name) that does not mention the key: before the fix it wrote null back.
    expect((await admin.api('PUT', `/admin/api/nodes/${n.id}`, { name: `${n.id} renamed`, host_name: `${n.id}.example.org`, profiles: [staff(1)] })).status).toBe(200);
    await n.agent.line('snapshot received', 10_000, (l) => l.revision === 2);
    expect(await storedKey(n.id)).toBe(key);
  }, 60_000);

  it('survives the node page saved from a form rendered before the key was known', async () => {
    const n = await enrolledWithoutProfiles('key-page');
    // The page as the admin opened it: no key yet, so its key field is empty.
    const token = await admin.csrf(`/admin/nodes/${n.id}`);
    const form = { _csrf: token, name: n.id, host_name: `${n.id}.example.org`, wg_public_key: '', 'serve.staff': 'on', 'wg4.staff': '10.62.2.0/24', 'wg6.staff': 'fd62:2::/64' };
    expect((await admin.form(`/admin/nodes/${n.id}`, form)).status).toBe(303);
    const key = await until('the key pinned', 10_000, () => storedKey(n.id));
    // The admin saves the same, stale form once more (a second change, a double click).
    expect((await admin.form(`/admin/nodes/${n.id}`, { ...form, name: `${n.id} again` })).status).toBe(303);
    await n.agent.line('snapshot received', 10_000, (l) => l.revision === 2);
    expect(await storedKey(n.id)).toBe(key);
  }, 60_000);

  it('forgotten on purpose (wg_public_key: null) is pinned again from the next heartbeat, without an agent restart', async () => {
    const n = await enrolledWithoutProfiles('key-forget');
    expect((await admin.api('PUT', `/admin/api/nodes/${n.id}`, { name: n.id, host_name: `${n.id}.example.org`, profiles: [staff(3)] })).status).toBe(200);
    const key = await until('the key pinned', 10_000, () => storedKey(n.id));
    expect((await admin.api('PUT', `/admin/api/nodes/${n.id}`, { name: n.id, host_name: `${n.id}.example.org`, wg_public_key: null, profiles: [staff(3)] })).status).toBe(200);
    expect(await until('the key pinned again', 10_000, () => storedKey(n.id))).toBe(key);
    expect(n.agent.messages('connecting to the portal')).toHaveLength(1);
  }, 60_000);
});
