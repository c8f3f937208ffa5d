/**
 * The network a journey needs around the single-server node that `npm start` runs in this
 * machine's own namespace: a client namespace (the user's device) joined to this machine by a
 * veth pair, so the device reaches the node at an address a test made (`hostAddress`, given to
 * `npm start` as EDGEPORT_HOST); and further node namespaces joined to the client directly
 * (other VPN servers). Addresses are /30s under 10.0.0.0/8 that no route of this machine uses;
 * nothing is sent anywhere but between these ends. `cleanup()` (and an exit hook) removes it all.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import { sweepNamespace } from '../../support/netns-topology.ts';
import { run } from '../../support/vpn-tools.ts';

const toInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

/** IPv4 prefixes on this machine's interfaces and routes. */
function machinePrefixes(): { net: number; prefix: number }[] {
  const out: { net: number; prefix: number }[] = [];
  const routes = JSON.parse(execFileSync('ip', ['-j', '-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }) || '[]') as { dst?: string }[];
  for (const r of routes) {
    if (!r.dst || r.dst === 'default') continue;
    const [ip = '', p = '32'] = r.dst.split('/');
    if (/^\d+\.\d+\.\d+\.\d+$/.test(ip)) out.push({ net: toInt(ip), prefix: Number(p) });
  }
  return out;
}

function freeSlash30(): number {
  const taken = machinePrefixes();
  for (let i = 0; i < 1000; i++) {
    const base = toInt(`10.${randomInt(16, 250)}.${randomInt(0, 256)}.${randomInt(0, 64) * 4}`);
    const clash = taken.some((t) => {
      const p = Math.min(30, t.prefix);
      const mask = p === 0 ? 0 : (2 ** 32 - 2 ** (32 - p)) >>> 0;
      return (base & mask) >>> 0 === (t.net & mask) >>> 0;
    });
    if (!clash) return base;
  }
  throw new Error('no free /30 under 10.0.0.0/8');
}

export class ClientNet {
  readonly tag = randomBytes(2).toString('hex');
  readonly client = `epj-${this.tag}-client`;
  /** This machine's end of the client's link: what the user's device dials. */
  hostAddress = '';
  private readonly namespaces: string[] = [];
  private readonly wgNames: string[] = [];
  private hostLink = '';
  private links = 0;
  private readonly onExit = () => this.cleanupSync();

  private constructor() {
    process.once('exit', this.onExit);
  }

  private async netns(name: string): Promise<void> {
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  }

  static async create(): Promise<ClientNet> {
    const net = new ClientNet();
    await net.netns(net.client);
    const base = freeSlash30();
    net.hostLink = `epjh${net.tag}`;
    await run('ip', ['link', 'add', 'name', net.hostLink, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', net.client]);
    net.hostAddress = toIp(base + 1);
    await run('ip', ['address', 'add', `${net.hostAddress}/30`, 'dev', net.hostLink]);
    await run('ip', ['link', 'set', net.hostLink, 'up']);
    await run('ip', ['-n', net.client, 'address', 'add', `${toIp(base + 2)}/30`, 'dev', 'eth0']);
    await run('ip', ['-n', net.client, 'link', 'set', 'eth0', 'up']);
    return net;
  }

  /** A VPN server's namespace, linked to the client; returns the namespace and the server's address. */
  async node(role: string): Promise<{ netns: string; address: string }> {
    const netns = `epj-${this.tag}-${role}`;
    await this.netns(netns);
    const base = freeSlash30();
    const port = `eth${++this.links}`;
    await run('ip', ['link', 'add', 'name', port, 'netns', this.client, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns]);
    await run('ip', ['-n', this.client, 'address', 'add', `${toIp(base + 1)}/30`, 'dev', port]);
    await run('ip', ['-n', this.client, 'link', 'set', port, 'up']);
    const address = toIp(base + 2);
    await run('ip', ['-n', netns, 'address', 'add', `${address}/30`, 'dev', 'eth0']);
    await run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
    return { netns, address };
  }

  /** A WireGuard interface name unique on the machine (wireguard-go's UAPI sockets are global). */
  interfaceName(role: string): string {
    const name = `epj${this.tag}${role}${randomBytes(1).toString('hex')}`.slice(0, 15);
    this.wgNames.push(name);
    return name;
  }

  async cleanup(): Promise<void> {
    process.off('exit', this.onExit);
    this.cleanupSync();
  }

  /** Synchronous, for the exit hook too: processes, namespaces (their veths go with them), the host's link, sockets. */
  cleanupSync(): void {
    for (const ns of this.namespaces.splice(0).reverse()) sweepNamespace(ns);
    if (this.hostLink) {
      try {
        execFileSync('ip', ['link', 'del', this.hostLink], { stdio: 'ignore' });
      } catch {}
    }
    for (const name of this.wgNames.splice(0)) {
      // A WireGuard interface in this machine's namespace (the local node's): deleting the link ends its wireguard-go.
      try {
        execFileSync('ip', ['link', 'del', name], { stdio: 'ignore' });
      } catch {}
      rmSync(`/var/run/wireguard/${name}.sock`, { force: true });
    }
  }
}
