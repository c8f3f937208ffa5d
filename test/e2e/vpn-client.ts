/**
 * The client side of a VPN app, in its own network namespace: a WireGuard interface set up from
 * the config the portal returned (what eduvpn-common does with it: its own private key added,
 * the addresses on the interface), or `openvpn --config` with the file exactly as downloaded;
 * plus `ping` to prove traffic goes through, with the kernel's timestamps for the figures.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run, wgKeyPair } from '../support/vpn-tools.ts';
import type { NetnsTopology } from '../support/netns-topology.ts';

/** A process inside a namespace with its output kept. */
export class NsProcess {
  out = '';
  /** When it exited (epoch ms): awaiting `exited` later would give the time of the await instead. */
  exitedAt: number | null = null;
  readonly exited: Promise<number | null>;
  readonly p: ChildProcess;
  constructor(netns: string, argv: string[]) {
    this.p = spawn('ip', ['netns', 'exec', netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.p.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.p.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((r) => {
      this.p.once('exit', (code) => {
        this.exitedAt = Date.now();
        r(code);
      });
      this.p.once('error', () => r(null));
    });
  }

  get running(): boolean {
    return this.p.exitCode === null && this.p.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.p.kill('SIGTERM');
    const t = setTimeout(() => this.p.kill('SIGKILL'), 3_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** `10.61.0.7/24` → `10.61.0.1`: the node's own address in that range (first host). */
export function firstHost(cidr: string): string {
  const [ip = '', prefix = '32'] = cidr.split('/');
  const n = ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const mask = Number(prefix) === 0 ? 0 : 2 ** 32 - 2 ** (32 - Number(prefix));
  const net = (n & mask) >>> 0;
  const first = net + 1;
  return [24, 16, 8, 0].map((s) => (first >>> s) & 255).join('.');
}

const wgValue = (text: string, key: string) => text.match(new RegExp(`^${key} = (.*)$`, 'm'))?.[1];

/** A WireGuard client: wireguard-go in the client's namespace, configured with `wg setconf` and `ip`. */
export class WgClient {
  private constructor(
    readonly netns: string,
    readonly iface: string,
    readonly proc: NsProcess,
    /** Where the tunnel goes: the node's address in the client's range. */
    readonly gateway: string,
    readonly address: string,
    readonly endpoint: string,
  ) {}

  /** A key pair to send as `public_key` before the config exists. */
  static keys = wgKeyPair;

  static async up(topo: Pick<NetnsTopology, 'interfaceName'>, netns: string, dir: string, config: string, privateKey: string): Promise<WgClient> {
    const [address = ''] = (wgValue(config, 'Address') ?? '').split(',');
    const endpoint = wgValue(config, 'Endpoint') ?? '';
    const iface = topo.interfaceName('c');
    const proc = new NsProcess(netns, ['wireguard-go', '-f', iface]);
    const deadline = Date.now() + 5_000;
    while (
      !(await run('ip', ['netns', 'exec', netns, 'wg', 'show', iface]).then(
        () => true,
        () => false,
      ))
    ) {
      if (!proc.running || Date.now() > deadline) throw new Error(`wireguard-go did not start ${iface}:\n${proc.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // wg(8)'s own file format: only the keys wg understands (Address and DNS are wg-quick's).
    const file = join(dir, `${iface}.conf`);
    const setconf = [
      '[Interface]',
      `PrivateKey = ${privateKey}`,
      '[Peer]',
      `PublicKey = ${wgValue(config, 'PublicKey')}`,
      `AllowedIPs = ${wgValue(config, 'AllowedIPs')}`,
      `Endpoint = ${endpoint}`,
    ].join('\n');
    await writeFile(file, `${setconf}\n`, { mode: 0o600 });
    await run('ip', ['netns', 'exec', netns, 'wg', 'setconf', iface, file]);
    await run('ip', ['-n', netns, 'address', 'add', address, 'dev', iface]);
    await run('ip', ['-n', netns, 'link', 'set', iface, 'up']);
    return new WgClient(netns, iface, proc, firstHost(address), address, endpoint);
  }

  async down(): Promise<void> {
    await run('ip', ['-n', this.netns, 'link', 'del', this.iface]).catch(() => undefined);
    await this.proc.stop();
  }
}

/** An OpenVPN client with the downloaded file as is; `gateway` comes from the server's push. */
export class OvpnClient {
  private constructor(
    readonly netns: string,
    readonly proc: NsProcess,
  ) {}

  static async start(netns: string, dir: string, name: string, config: string): Promise<OvpnClient> {
    const file = join(dir, `${name}.ovpn`);
    await writeFile(file, config, { mode: 0o600 });
    return new OvpnClient(netns, new NsProcess(netns, ['openvpn', '--config', file]));
  }

  /** Resolves once the tunnel is up; rejects with the log if the client exits or takes too long. */
  async up(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/Initialization Sequence Completed/.test(this.proc.out)) {
      if (!this.proc.running) throw new Error(`openvpn client exited:\n${this.proc.out}`);
      if (Date.now() > deadline) throw new Error(`openvpn client not up within ${timeoutMs} ms:\n${this.proc.out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The server's tun address, from `route-gateway` in the PUSH_REPLY (verb 3 logs it). */
  get gateway(): string {
    const gw = this.proc.out.match(/route-gateway ([0-9.]+)/)?.[1];
    if (!gw) throw new Error(`no route-gateway in the client log:\n${this.proc.out}`);
    return gw;
  }
}

/** One ping: true if any of `count` echo requests got an answer. */
export async function pings(netns: string, address: string, count = 1, waitS = 1): Promise<boolean> {
  return run('ip', ['netns', 'exec', netns, 'ping', '-n', '-q', '-c', String(count), '-i', '0.2', '-W', String(waitS), address]).then(
    () => true,
    () => false,
  );
}

/**
 * `ping -D -i 0.1` running until stopped: every reply with the kernel's receive timestamp, so
 * "when did traffic stop" is read from the replies, not from when a test happened to look.
 */
export class Pinger {
  readonly replies: number[] = [];
  private readonly proc: NsProcess;
  private partial = '';
  static readonly INTERVAL_MS = 100;

  constructor(
    readonly netns: string,
    readonly address: string,
  ) {
    this.proc = new NsProcess(netns, ['ping', '-n', '-D', '-i', String(Pinger.INTERVAL_MS / 1000), '-W', '1', address]);
    this.proc.p.stdout?.on('data', (d: Buffer) => {
      const lines = (this.partial + d.toString()).split('\n');
      this.partial = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^\[(\d+\.\d+)\] \d+ bytes from/.exec(l);
        if (m) this.replies.push(Math.round(Number(m[1]) * 1000));
      }
    });
  }

  get last(): number | null {
    return this.replies.at(-1) ?? null;
  }

  /** Replies received after `t` (epoch ms). */
  since(t: number): number[] {
    return this.replies.filter((r) => r > t);
  }

  /** The longest silence between replies within [from, to], in ms: a tunnel that kept working has about the interval. */
  longestGap(from: number, to: number): number {
    const inside = [from, ...this.replies.filter((r) => r >= from && r <= to), to];
    let gap = 0;
    for (let i = 1; i < inside.length; i++) gap = Math.max(gap, (inside[i] as number) - (inside[i - 1] as number));
    return gap;
  }

  get output(): string {
    return this.proc.out;
  }

  stop(): Promise<void> {
    return this.proc.stop();
  }
}
