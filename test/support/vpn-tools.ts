/**
 * The real VPN tools (wg, wg-quick, wireguard-go, openvpn, openssl, ip) for the black-box tests.
 * Everything a test creates on the machine (network namespaces, processes, WireGuard UAPI sockets,
 * temp dirs) goes through a Sandbox, whose cleanup() in afterAll removes it even when a test failed
 * halfway: a leftover namespace or daemon would outlive the run and confuse the next one.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const run = promisify(execFile);

/** A command's stdout; `input` goes to its stdin (how `wg pubkey` takes the private key). */
export async function sh(cmd: string, args: string[], input?: string): Promise<string> {
  const child = run(cmd, args, { encoding: 'utf8' });
  if (input !== undefined) child.child.stdin?.end(input);
  return (await child).stdout;
}

const TOOLS = ['wg', 'wg-quick', 'wireguard-go', 'openvpn', 'openssl', 'ip'];
const APT_PACKAGES = 'wireguard-go wireguard-tools openvpn openssl iproute2';

/** Throws when a tool is missing: a skipped interop test would look like a passing one. */
export async function requireVpnTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of TOOLS) await run('sh', ['-c', `command -v ${tool}`]).catch(() => missing.push(tool));
  if (missing.length) throw new Error(`missing ${missing.join(', ')}: apt-get install -y --no-install-recommends ${APT_PACKAGES}`);
}

/**
 * A name with a random suffix: test files run in parallel and share the host's namespace list and
 * /var/run/wireguard. Keep prefix + 2*bytes within 15 characters for interface names (IFNAMSIZ).
 */
export function uniqueName(prefix: string, bytes = 4): string {
  return `${prefix}${randomBytes(bytes).toString('hex')}`;
}

/** A fresh WireGuard key pair from the real `wg genkey` / `wg pubkey`. */
export async function wgKeyPair(): Promise<{ privateKey: string; publicKey: string }> {
  const privateKey = (await sh('wg', ['genkey'])).trim();
  return { privateKey, publicKey: (await sh('wg', ['pubkey'], `${privateKey}\n`)).trim() };
}

/** A running process with its stdout and stderr collected, for waiting on and for error messages. */
export interface Proc {
  p: ChildProcess;
  log(): string;
}

const exited = (p: ChildProcess) => p.exitCode !== null || p.signalCode !== null;

/** Resolves when `pattern` shows up in the output; rejects with the log on exit or timeout. */
export function waitFor(proc: Proc, pattern: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearInterval(timer);
      clearTimeout(timeout);
      proc.p.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    // Checked once more on exit: the line may arrive together with the end of the process.
    const onExit = () => (pattern.test(proc.log()) ? done() : done(new Error(`process exited before ${pattern}:\n${proc.log()}`)));
    const timer = setInterval(() => pattern.test(proc.log()) && done(), 50);
    const timeout = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms:\n${proc.log()}`)), ms);
    proc.p.on('exit', onExit);
    if (exited(proc.p)) onExit();
  });
}

/** SIGTERM, then SIGKILL if the process has not gone after `graceMs`; resolves once it exited. */
export async function stop(p: ChildProcess, graceMs = 5_000): Promise<void> {
  if (exited(p)) return;
  // 'error' too: a process that never started emits no 'exit'.
  const gone = new Promise((r) => {
    p.once('exit', r);
    p.once('error', r);
  });
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}

/** Owns what the tests create on the host; cleanup() undoes all of it, in an order that works. */
export class Sandbox {
  private readonly processes: ChildProcess[] = [];
  private readonly namespaces: string[] = [];
  private readonly sockets: string[] = [];
  private readonly dirs: string[] = [];

  async tempDir(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  /** A new network namespace with loopback up (tests bind servers to addresses on `lo`). */
  async netns(prefix: string): Promise<string> {
    const name = uniqueName(prefix);
    await run('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await run('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
    return name;
  }

  /** Runs `command` inside `netns`; `ip netns exec` execs in place, so killing it kills the command. */
  spawnIn(netns: string, command: string, args: string[]): Proc {
    let out = '';
    const p = spawn('ip', ['netns', 'exec', netns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    this.processes.push(p);
    return { p, log: () => out };
  }

  /**
   * A userspace WireGuard interface in `netns` (no kernel module needed). Its name is random because
   * wireguard-go's UAPI socket lives in the host-wide /var/run/wireguard, not in the namespace.
   */
  async wireguardGo(netns: string, prefix = 'epw'): Promise<{ name: string; proc: Proc }> {
    const name = uniqueName(prefix, 3);
    this.sockets.push(`/var/run/wireguard/${name}.sock`);
    const proc = this.spawnIn(netns, 'wireguard-go', ['-f', name]);
    const deadline = Date.now() + 5_000;
    // `wg setconf` needs the UAPI socket, which wireguard-go opens right after creating the link.
    while (
      !(await run('ip', ['netns', 'exec', netns, 'wg', 'show', name]).then(
        () => true,
        () => false,
      ))
    ) {
      if (exited(proc.p) || Date.now() > deadline) throw new Error(`wireguard-go did not bring up ${name} in ${netns}:\n${proc.log()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    return { name, proc };
  }

  /**
   * Processes first (a namespace is only freed once nothing runs in it, and wireguard-go's tun
   * device goes with its process), then namespaces, stale sockets of killed daemons, temp dirs.
   * Every step is tried; the failures are reported together at the end.
   */
  async cleanup(): Promise<void> {
    const errors: unknown[] = [];
    const attempt = async (work: () => Promise<unknown>) => {
      try {
        await work();
      } catch (err) {
        errors.push(err);
      }
    };
    await Promise.all(this.processes.splice(0).map((p) => attempt(() => stop(p, 2_000))));
    for (const ns of this.namespaces.splice(0)) await attempt(() => run('ip', ['netns', 'del', ns]));
    for (const socket of this.sockets.splice(0)) await attempt(() => rm(socket, { force: true }));
    for (const dir of this.dirs.splice(0)) await attempt(() => rm(dir, { recursive: true, force: true }));
    if (errors.length) throw new AggregateError(errors, 'sandbox cleanup failed');
  }
}

export interface OpenvpnServerInput {
  /** The address the server listens on inside its namespace. */
  local: string;
  port: number;
  /** Client address pools, e.g. `10.42.42.0 255.255.255.0` and `fd42::/64`. */
  server: string;
  serverIpv6: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  tlsCrypt: string;
}

const inline = (tag: string, body: string) => `<${tag}>\n${body.trim()}\n</${tag}>`;

/** A trimmed version of the node's UDP server file (docs/eduvpn.md §2.3), enough for one process. */
export function openvpnServerConfig(s: OpenvpnServerInput): string {
  return [
    'dev tun',
    'topology subnet',
    'proto udp',
    `local ${s.local}`,
    `port ${s.port}`,
    `server ${s.server}`,
    `server-ipv6 ${s.serverIpv6}`,
    'dh none',
    'tls-version-min 1.3',
    'data-ciphers AES-256-GCM:CHACHA20-POLY1305',
    'remote-cert-tls client',
    'keepalive 10 60',
    'verb 3',
    inline('ca', s.caPem),
    inline('cert', s.certPem),
    inline('key', s.keyPem),
    inline('tls-crypt', s.tlsCrypt),
  ].join('\n');
}
