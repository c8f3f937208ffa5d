// The shipped node agent as a child process for benchmarks: built to a private path, started with
// EDGEPORT_* variables (optionally behind a command prefix such as `ip netns exec <ns>`), its JSON
// log lines kept with the moment each arrived, its memory read from /proc.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { until as pollUntil, type LogLine } from '../../test/support/agent-process.ts';

export { buildAgent, type LogLine } from '../../test/support/agent-process.ts';

/** `edgeport-agent enroll`: trades a one-time token for the node credential, written to `credentialFile`. */
export function enrollAgent(agent: string, portal: string, nodeId: string, token: string, credentialFile: string): void {
  execFileSync('node', [agent, 'enroll', '--portal', portal, '--node', nodeId, '--token', token, '--credential-file', credentialFile], { stdio: 'ignore' });
}

/** The shared poll at 20 ms: the benches time what they wait for. */
export function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>): Promise<T> {
  return pollUntil(what, timeoutMs, probe, 20);
}

/** /proc/<pid>/status figures in KiB (VmHWM: peak resident set; VmRSS: now). */
export function memoryKiB(pid: number): { hwm: number; rss: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { hwm: field('VmHWM'), rss: field('VmRSS') };
  } catch {
    return null;
  }
}

/** One `edgeport-agent run`; `startedAt` is performance.now() just before the spawn. */
export class AgentProcess {
  readonly lines: { at: number; line: LogLine }[] = [];
  readonly startedAt: number;
  stdout = '';
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;

  constructor(agent: string, env: Record<string, string>, prefix: string[] = []) {
    const argv = [...prefix, process.execPath, agent, 'run'];
    this.startedAt = performance.now();
    this.child = spawn(argv[0] as string, argv.slice(1), { env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      const at = performance.now();
      const text = chunk.toString();
      this.stdout = (this.stdout + text).slice(-20_000);
      partial += text;
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        try {
          this.lines.push({ at, line: JSON.parse(p) as LogLine });
        } catch {
          this.lines.push({ at, line: { msg: p, level: 'raw' } });
        }
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-20_000)));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => ((this.exit = { code, signal }), resolve())));
  }

  /** `ip netns exec` execs in place, so this is the agent's own pid either way. */
  get pid(): number {
    return this.child.pid as number;
  }

  /** The first line `msg` (matching `match`), with the moment it arrived. */
  line(msg: string, timeoutMs: number, match: (l: LogLine) => boolean = () => true): Promise<{ at: number; line: LogLine }> {
    return until(`agent log "${msg}"`, timeoutMs, () => {
      const hit = this.lines.find((l) => l.line.msg === msg && match(l.line));
      if (hit) return hit;
      if (this.exit) throw new Error(`agent exited (${JSON.stringify(this.exit)}) before "${msg}":\n${this.stdout.slice(-3000)}\n${this.stderr}`);
      return undefined;
    });
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.exit) this.child.kill(signal);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}
