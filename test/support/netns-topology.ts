/**
 * A small network made of namespaces for the end-to-end tier: one "switch" namespace holding a
 * Linux bridge, and any number of hosts (VPN nodes, VPN clients), each its own namespace with an
 * `eth0` veth into the bridge and an address on one /24. Every host reaches every other over
 * real links, so a node's address is what its VPN configs name and what the client dials.
 *
 * Names carry the run's tag (`EDGEPORT_E2E_RUN`, set by the e2e global setup, else this pid), so
 * the global teardown can sweep whatever a crashed worker left, and parallel runs never collide.
 * Everything is undone by `cleanup()` (afterAll) and, should the worker exit without it, by a
 * synchronous exit hook: a leftover namespace with a wireguard-go in it outlives the run.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { run } from './vpn-tools.ts';

/** The run's short tag: 4 lowercase alphanumerics, so interface names stay within 15 characters. */
export function runTag(): string {
  const tag = process.env.EDGEPORT_E2E_RUN;
  if (tag && /^[a-z0-9]{4}$/.test(tag)) return tag;
  const own = (process.pid % 36 ** 4).toString(36).padStart(4, '0');
  process.env.EDGEPORT_E2E_RUN = own;
  return own;
}

export const NETNS_PREFIX = 'epe2e-';
export const IF_PREFIX = 'x';

/** Namespaces of one run: `epe2e-<tag>-<role>-<rand>`. */
export const netnsOfRun = (tag: string) => (name: string) => name.startsWith(`${NETNS_PREFIX}${tag}-`);

export interface Host {
  netns: string;
  address: string;
}

export class NetnsTopology {
  readonly tag = runTag();
  private readonly namespaces: string[] = [];
  private readonly interfaces: string[] = [];
  private switchNs = '';
  private links = 0;
  private readonly onExit = () => this.cleanupSync();

  /** `prefix` is the /24's first three octets, e.g. `10.200.0`. */
  constructor(readonly prefix = '10.200.0') {
    process.once('exit', this.onExit);
  }

  private async netns(role: string): Promise<string> {
    const name = `${NETNS_PREFIX}${this.tag}-${role}-${randomBytes(2).toString('hex')}`;
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** The switch; call once before adding hosts. */
  async start(): Promise<void> {
    this.switchNs = await this.netns('sw');
    await run('ip', ['-n', this.switchNs, 'link', 'add', 'br0', 'type', 'bridge']);
    await run('ip', ['-n', this.switchNs, 'link', 'set', 'br0', 'up']);
  }

  /** A new namespace on the switch with `<prefix>.<hostNumber>/24` on its eth0. */
  async host(role: string, hostNumber: number): Promise<Host> {
    if (!this.switchNs) throw new Error('NetnsTopology.start() first');
    const netns = await this.netns(role);
    const port = `p${++this.links}`;
    // Both ends are created straight into their namespaces: no name ever exists in the host's.
    await run('ip', ['link', 'add', 'name', port, 'netns', this.switchNs, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['-n', this.switchNs, 'link', 'set', port, 'master', 'br0', 'up']);
    const address = `${this.prefix}.${hostNumber}`;
    await run('ip', ['-n', netns, 'address', 'add', `${address}/24`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    return { netns, address };
  }

  /**
   * A WireGuard interface name unique on the machine: wireguard-go's UAPI sockets share
   * /var/run/wireguard across namespaces. `x<tag><role>`, at most 15 characters.
   */
  interfaceName(role: string): string {
    const name = `${IF_PREFIX}${this.tag}${role}${randomBytes(1).toString('hex')}`.slice(0, 15);
    this.interfaces.push(name);
    return name;
  }

  /** Pids of every process in `netns` (wireguard-go daemons, OpenVPN servers and clients, pings). */
  async pids(netns: string): Promise<number[]> {
    const { stdout } = await run('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
    return stdout.split('\n').filter(Boolean).map(Number);
  }

  /** Kills what runs in `netns` (a node going down hard); the namespace and its links stay. */
  async killAll(netns: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<number> {
    const pids = await this.pids(netns);
    for (const pid of pids) {
      try {
        process.kill(pid, signal);
      } catch {}
    }
    return pids.length;
  }

  async cleanup(): Promise<void> {
    process.off('exit', this.onExit);
    this.cleanupSync();
  }

  /**
   * Synchronous, so it also works from an exit hook: processes first (a namespace with a live
   * tun owner keeps its device), then namespaces (their veths go with them), then sockets.
   */
  cleanupSync(): void {
    for (const ns of this.namespaces.splice(0).reverse()) sweepNamespace(ns);
    for (const name of this.interfaces.splice(0)) rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
  }
}

/** Kills every process in `ns` and deletes it; errors are swallowed (it may already be gone). */
export function sweepNamespace(ns: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    // SIGKILL is asynchronous: give the kernel a moment to reap before the namespace goes.
    if (pids.length) execFileSync('sleep', ['0.2']);
  } catch {}
  try {
    execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
  } catch {}
}

/** Every namespace on the machine. */
export function listNamespaces(): string[] {
  try {
    return execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
      .split('\n')
      .map((l) => l.split(' ')[0] ?? '')
      .filter(Boolean);
  } catch {
    return [];
  }
}
