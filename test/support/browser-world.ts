import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { AgentProcess, buildAgent } from './agent-process.ts';
import { HttpBrowser } from './browser.ts';
import { launchChromium } from './chromium.ts';
import { SETUP_TOKEN, startPortal, type Portal } from './portal.ts';
import { requireVpnTools, run, Sandbox, uniqueName } from './vpn-tools.ts';

const execFileP = promisify(execFile);

export const ADMIN_PASSWORD = 'browser admin password 1';
export const USER_PASSWORD = 'browser user password 1';

/** The profile the browser suites use: both protocols, so a user can make either config. */
export const PROFILE = {
  id: 'staff',
  display_name: 'Staff',
  host_name: 'vpn.example.org',
  dns_servers: ['9.9.9.9'],
  wireguard: { range_four: '10.71.0.0/24', range_six: 'fd71::/64', port: 51820 },
  openvpn: { range_four: '10.72.0.0/24', range_six: 'fd72::/64', udp_ports: [1194], tcp_ports: [1194] },
};

export interface AgentNode {
  id: string;
  netns: string;
  wgInterface: string;
  agent: AgentProcess;
}

/**
 * Everything a browser suite runs against: the real portal in workerd, Debian chromium, and the
 * real agent (bundled as shipped) with the real WireGuard and OpenVPN backends, its data plane in
 * a network namespace of its own (EDGEPORT_NETNS), so nothing touches the host's interfaces.
 */
export class BrowserWorld {
  readonly sandbox = new Sandbox();
  readonly agents: AgentProcess[] = [];
  private readonly nodes: AgentNode[] = [];
  portal!: Portal;
  browser!: Browser;
  /** An HTTP client signed in as the administrator, for arranging state through the JSON API. */
  admin!: HttpBrowser;
  agentPath!: string;
  dir!: string;

  async start(): Promise<void> {
    await requireVpnTools();
    this.dir = await this.sandbox.tempDir('ep-browser-');
    this.agentPath = buildAgent(join(this.dir, 'edgeport-agent.mjs'));
    [this.portal, this.browser] = await Promise.all([startPortal({ NODE_HEALTHY_SECONDS: '30' }), launchChromium()]);
    const setup = await fetch(`${this.portal.origin}/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: SETUP_TOKEN, user: 'admin', password: ADMIN_PASSWORD }),
    });
    if (setup.status !== 201) throw new Error(`setup answered ${setup.status}`);
    this.admin = new HttpBrowser(this.portal.origin);
    if ((await this.admin.login('admin', ADMIN_PASSWORD)).status !== 303) throw new Error('admin login failed');
  }

  async api<T = unknown>(method: string, path: string, body?: unknown, expected = [200, 201, 204]): Promise<T> {
    const r = await this.admin.api(method, path, body);
    const text = await r.text();
    if (!expected.includes(r.status)) throw new Error(`${method} ${path} → ${r.status}: ${text}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** Runs the enroll command exactly as the portal printed it, writing the credential to a file. */
  async enroll(command: string, nodeId: string): Promise<string> {
    const args = command.trim().split(/\s+/);
    if (args[0] !== 'edgeport-agent' || args[1] !== 'enroll') throw new Error(`not an enroll command: ${command}`);
    const credentialFile = join(this.dir, `${nodeId}.credential`);
    await execFileP('node', [this.agentPath, ...args.slice(1), '--credential-file', credentialFile]);
    return credentialFile;
  }

  /** Starts `edgeport-agent run` for an enrolled node, its VPN processes in a fresh namespace. */
  async startAgent(nodeId: string, credentialFile: string): Promise<AgentNode> {
    const netns = await this.sandbox.netns('epbr');
    const wgInterface = uniqueName('epbw', 3);
    const stateDir = join(this.dir, nodeId, 'state');
    const agent = new AgentProcess(this.agentPath, this.agents, {
      EDGEPORT_PORTAL_URLS: this.portal.origin,
      EDGEPORT_NODE_ID: nodeId,
      EDGEPORT_CREDENTIAL_FILE: credentialFile,
      EDGEPORT_STATE_DIR: stateDir,
      EDGEPORT_RUN_DIR: join(this.dir, nodeId, 'run'),
      EDGEPORT_METRICS_ADDR: '127.0.0.1:0',
      EDGEPORT_BACKEND: 'system',
      EDGEPORT_NETNS: netns,
      EDGEPORT_WG_INTERFACE: wgInterface,
      EDGEPORT_HEARTBEAT_SECONDS: '1',
      EDGEPORT_SESSIONS_SECONDS: '1',
    });
    const node = { id: nodeId, netns, wgInterface, agent };
    this.nodes.push(node);
    return node;
  }

  /**
   * Agents first, then whatever they left running in their namespaces (wireguard-go and openvpn
   * outlive a stopped agent on purpose), then the portal, the browser and the sandbox.
   */
  async stop(): Promise<void> {
    await Promise.all(this.agents.map((a) => a.stop('SIGKILL')));
    for (const node of this.nodes) {
      const pids = (await run('ip', ['netns', 'pids', node.netns]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter(Boolean);
      for (const pid of pids) await run('kill', ['-9', pid]).catch(() => undefined);
      await rm(`/var/run/wireguard/${node.wgInterface}.sock`, { force: true });
    }
    await this.browser?.close();
    await this.portal?.stop();
    await this.sandbox.cleanup();
  }
}
