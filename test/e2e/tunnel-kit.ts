/**
 * App-side steps shared by the scenario files: connect for a token, bring the config up in a
 * fresh client namespace, ping the node through it, and time it from the connect request to the
 * first reply. Everything started here is stopped by `stopAll()` (afterAll).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { until } from '../support/agent-process.ts';
import { wgKeyPair } from '../support/vpn-tools.ts';
import { figure } from './figures.ts';
import { OvpnClient, Pinger, WgClient } from './vpn-client.ts';
import { OVPN_ACCEPT, WG_ACCEPT, World, type NodeHandle } from './world.ts';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A world with both agents up and serving, and the kit for its tunnels; the setup time is a figure. */
export async function readyWorld(name: string): Promise<{ w: World; kit: TunnelKit }> {
  const t0 = performance.now();
  const w = await World.create(name);
  const kit = new TunnelKit(w);
  for (const n of w.nodes) w.startAgent(n);
  await Promise.all(w.nodes.map((n) => w.agentReady(n)));
  figure('setup', 'world up (portal, 2 agents with WireGuard and OpenVPN servers)', performance.now() - t0);
  return { w, kit };
}

export interface WgTunnel {
  netns: string;
  keys: { privateKey: string; publicKey: string };
  client: WgClient;
  pinger: Pinger;
  node: NodeHandle;
  config: string;
  firstReply: number;
}

export interface OvpnTunnel {
  netns: string;
  client: OvpnClient;
  pinger: Pinger;
  node: NodeHandle;
  config: string;
  firstReply: number;
}

export class TunnelKit {
  private readonly pingers: Pinger[] = [];
  private readonly wg: WgClient[] = [];
  private readonly ovpn: OvpnClient[] = [];

  constructor(private readonly w: World) {}

  pinger(netns: string, address: string): Pinger {
    const p = new Pinger(netns, address);
    this.pingers.push(p);
    return p;
  }

  async wireguard(scenario: string, token: string, label: string, origin?: string): Promise<WgTunnel> {
    const { netns } = await this.w.client();
    const keys = await wgKeyPair();
    const t0 = Date.now();
    const c = await this.w.connect(token, WG_ACCEPT, keys.publicKey, origin);
    expect(c.status, c.body).toBe(200);
    expect(c.node, c.body).not.toBeNull();
    const client = await WgClient.up(this.w.topo, netns, this.w.dir, c.body, keys.privateKey);
    this.wg.push(client);
    const pinger = this.pinger(netns, client.gateway);
    const first = await until(`first ping through WireGuard to ${client.gateway}\n${pinger.output}`, 20_000, () => pinger.replies[0]);
    figure(scenario, `WireGuard ${label}: connect request → first ping reply`, first - t0, `/connect ${Math.round(c.ms)} ms, ${c.node?.id}`);
    return { netns, keys, client, pinger, node: c.node as NodeHandle, config: c.body, firstReply: first };
  }

  /** An OpenVPN client in `netns` (a fresh namespace if not given) with `config` exactly as downloaded. */
  async openvpnClient(netns: string, label: string, config: string): Promise<OvpnClient> {
    const client = await OvpnClient.start(netns, this.w.dir, `ovpn-${label.replace(/\W+/g, '-')}-${this.ovpn.length}`, config);
    this.ovpn.push(client);
    await client.up();
    return client;
  }

  async openvpn(scenario: string, token: string, label: string, origin?: string): Promise<OvpnTunnel> {
    const { netns } = await this.w.client();
    const t0 = Date.now();
    const c = await this.w.connect(token, OVPN_ACCEPT, undefined, origin);
    expect(c.status, c.body).toBe(200);
    expect(c.node, c.body).not.toBeNull();
    const client = await this.openvpnClient(netns, label, c.body);
    const pinger = this.pinger(netns, client.gateway);
    const first = await until(`first ping through OpenVPN to ${client.gateway}`, 20_000, () => pinger.replies[0]);
    figure(scenario, `OpenVPN ${label}: connect request → first ping reply`, first - t0, `/connect ${Math.round(c.ms)} ms, ${c.node?.id}`);
    return { netns, client, pinger, node: c.node as NodeHandle, config: c.body, firstReply: first };
  }

  /** Waits until `pinger` has been silent for `quietMs`; returns its last reply (epoch ms). */
  static async silent(what: string, pinger: Pinger, quietMs: number, timeoutMs: number): Promise<number> {
    await until(`${what}: no ping reply for ${quietMs} ms`, timeoutMs, () => (pinger.last ?? 0) < Date.now() - quietMs);
    return pinger.last ?? 0;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.pingers.map((p) => p.stop()));
    await Promise.all(this.ovpn.map((c) => c.proc.stop()));
    await Promise.all(this.wg.map((c) => c.down()));
    // Next to the agents' logs in the run folder (kept with E2E_KEEP=1).
    const dir = process.env.EDGEPORT_E2E_DIR ? join(process.env.EDGEPORT_E2E_DIR, this.w.name) : null;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      this.ovpn.forEach((c, i) => writeFileSync(join(dir, `openvpn-client-${i}.log`), c.proc.out));
    }
  }
}
