/**
 * The README's `npm start`, run as a newcomer runs it: in a copy of the repository as a fresh
 * clone has it (tracked and new files, no node_modules, no .data), with nothing typed before it.
 * The process runs in its own process group, as under a terminal, so a journey can send the
 * group a signal the way Ctrl-C, `timeout` or a CI runner does, and then check that nothing of
 * the copy is left running.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export const REPO = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');

/**
 * A fresh-clone copy of the working tree: the files git tracks plus new ones it does not
 * ignore (so a journey tests the change under review, as CI's clean clone will). With
 * `linkDependencies` the repository's installed node_modules are hard-linked in (for journeys
 * that are not about installing); without, `npm start` installs them itself.
 */
export function freshCopy(label: string, linkDependencies = false): string {
  const dir = mkdtempSync(join(tmpdir(), `edgeport-journey-${label}-`));
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const f of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    try {
      cpSync(join(REPO, f), join(dir, f), { preserveTimestamps: true });
    } catch (err) {
      // A tracked file deleted in the working tree is not part of the change.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  // Hard links: seconds instead of minutes, and the copy's workspace links still point into the copy.
  // The real directory, never a symlink to it: `npm ci` in the copy would empty the original.
  if (linkDependencies) execFileSync('cp', ['-al', realpathSync(join(REPO, 'node_modules')), join(dir, 'node_modules')]);
  return dir;
}

/** Every process whose command line or working directory is inside `dir`: what a stop must leave none of. */
export function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${pid}/cwd`);
      } catch {}
      if (cmd.includes(dir) || cwd === dir || cwd.startsWith(`${dir}/`)) found.push(`${pid} ${cmd.slice(0, 200)}`);
    } catch {}
  }
  return found;
}

export class NpmStart {
  out = '';
  readonly proc: ChildProcess;
  readonly exited: Promise<number | string | null>;
  private cursor = 0;

  /** `env` adds the documented knobs (PORT, EDGEPORT_HOST, …) to this process's environment. */
  constructor(
    readonly dir: string,
    env: Record<string, string>,
  ) {
    this.proc = spawn('npm', ['start'], { cwd: dir, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.proc.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.proc.stderr?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve(code ?? signal)));
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** The first match of `pattern` in the output (after the previous `wait`'s match), within `ms`. */
  async wait(pattern: RegExp, ms: number): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const rest = this.out.slice(this.cursor);
      const m = rest.match(pattern);
      if (m) {
        this.cursor += (m.index ?? 0) + m[0].length;
        return m;
      }
      if (!this.running) throw new Error(`npm start exited (${this.proc.exitCode ?? this.proc.signalCode}) before printing ${pattern}:\n${this.out.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`npm start did not print ${pattern} within ${ms} ms:\n${this.out.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A signal to the whole process group, as a terminal or `timeout` sends it. */
  signal(sig: NodeJS.Signals): void {
    try {
      process.kill(-(this.proc.pid as number), sig);
    } catch {}
  }

  /**
   * SIGTERM to the group, then waits until no process of the copy is left but the tunnels'
   * (wireguard-go and the OpenVPN servers stay up when the agent stops, by design: the next
   * start adopts them; `removeCopy` ends them); what
   * is still there after `ms` is killed and reported, so a failing journey still cleans up.
   */
  async stop(ms = 15_000): Promise<string[]> {
    this.signal('SIGTERM');
    const deadline = Date.now() + ms;
    const left = () => processesIn(this.dir).filter((p) => !/^\d+ \S*(openvpn|wireguard-go) /.test(p));
    let now = left();
    while (now.length && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      now = left();
    }
    const remaining = now;
    for (const line of remaining) killPid(Number(line.split(' ')[0]));
    return remaining;
  }
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
}

/** Removes a copy, first killing anything still running from it. */
export function removeCopy(dir: string): void {
  for (const line of processesIn(dir)) killPid(Number(line.split(' ')[0]));
  rmSync(dir, { recursive: true, force: true });
}
