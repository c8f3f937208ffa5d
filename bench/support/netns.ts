// The node-agent bench's network: a namespace for the agents' data plane, joined to the root
// namespace by a veth pair, and TCP relays that carry the agents' portal link across it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, connect as tcpConnect, type Server } from 'node:net';
import { join } from 'node:path';
import { until } from './agent.ts';

const UAPI = '/var/run/wireguard';
const sh = (argv: string[]) => execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** wireguard-go is a daemon of its own: found by its command line (it is `wireguard-go <interface>`). */
export function wireguardGoPid(iface: string): number | null {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `wireguard-go\0${iface}\0`) return Number(entry);
    } catch {}
  }
  return null;
}

/** A TCP relay: connections to `listenHost` go on to `toHost:toPort`. The same code runs in-process and inside the namespace. */
const RELAY_JS = `
const net = require('node:net');
const [listenHost, listenPort, toHost, toPort] = process.argv.slice(1);
const server = net.createServer((c) => {
  const u = net.connect(Number(toPort), toHost);
  const end = () => { c.destroy(); u.destroy(); };
  c.on('error', end); u.on('error', end); c.on('close', end); u.on('close', end);
  c.pipe(u); u.pipe(c);
});
server.listen(Number(listenPort), listenHost, () => console.log('ready ' + server.address().port));`;

export function relayHere(listenHost: string, toHost: string, toPort: number): Promise<Server> {
  const server = createServer((c) => {
    const u = tcpConnect(toPort, toHost);
    const end = () => (c.destroy(), u.destroy());
    for (const s of [c, u]) s.on('error', end).on('close', end);
    c.pipe(u);
    u.pipe(c);
  });
  return new Promise((resolve, reject) => server.once('error', reject).listen(0, listenHost, () => resolve(server)));
}

export class BenchNetns {
  readonly name: string;
  readonly rootAddr = '10.254.254.1';
  readonly nsAddr = '10.254.254.2';
  private readonly vethRoot: string;
  private readonly vethNs: string;
  /** WireGuard interfaces made inside: deleted (and their wireguard-go waited for) before the namespace. */
  readonly wgInterfaces: string[] = [];

  constructor(
    runId: string,
    private readonly onCleanup: (what: string, run: () => unknown) => void,
  ) {
    this.name = `epb-${runId}`;
    this.vethRoot = `epbr${runId}`;
    this.vethNs = `epbn${runId}`;
  }

  /** The namespace, joined to the root namespace by a veth pair with addresses only we use. */
  make(): void {
    const { name } = this;
    if (sh(['ip', '-o', 'address']).includes(`${this.rootAddr}/`)) throw new Error(`${this.rootAddr} is already in use on this machine`);
    sh(['ip', 'netns', 'add', name]);
    this.onCleanup('namespace', async () => {
      // Deleting a WireGuard link makes its wireguard-go exit and remove its UAPI socket.
      for (const iface of this.wgInterfaces) {
        try {
          sh(['ip', '-n', name, 'link', 'del', iface]);
        } catch {}
      }
      await until('wireguard-go gone', 5_000, () => this.wgInterfaces.every((n) => !existsSync(join(UAPI, `${n}.sock`)) && wireguardGoPid(n) === null)).catch(() => {
        for (const n of this.wgInterfaces) {
          const pid = wireguardGoPid(n);
          if (pid) process.kill(pid, 'SIGKILL');
          rmSync(join(UAPI, `${n}.sock`), { force: true });
        }
      });
      sh(['ip', 'netns', 'del', name]);
      try {
        sh(['ip', 'link', 'del', this.vethRoot]);
      } catch {}
      if (sh(['ip', 'netns', 'list']).includes(name)) throw new Error(`namespace ${name} left behind`);
    });
    sh(['ip', 'link', 'add', this.vethRoot, 'type', 'veth', 'peer', 'name', this.vethNs, 'netns', name]);
    sh(['ip', 'address', 'add', `${this.rootAddr}/30`, 'dev', this.vethRoot]);
    sh(['ip', 'link', 'set', this.vethRoot, 'up']);
    sh(['ip', '-n', name, 'address', 'add', `${this.nsAddr}/30`, 'dev', this.vethNs]);
    sh(['ip', '-n', name, 'link', 'set', this.vethNs, 'up']);
    sh(['ip', '-n', name, 'link', 'set', 'lo', 'up']);
  }

  /** A relay on the namespace's loopback to `toHost:toPort` (agents inside reach the portal through it). */
  async relayInside(toHost: string, toPort: number): Promise<{ port: number; child: ChildProcess }> {
    const child = spawn('ip', ['netns', 'exec', this.name, process.execPath, '-e', RELAY_JS, '127.0.0.1', '0', toHost, String(toPort)], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.onCleanup('relay in the namespace', () => child.kill('SIGKILL'));
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => {
        const m = /ready (\d+)/.exec(d.toString());
        if (m) resolve(Number(m[1]));
      });
      child.on('exit', (code) => reject(new Error(`relay in ${this.name} exited with ${code}`)));
    });
    return { port, child };
  }
}
