import { execFileSync, spawn, type ChildProcess } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

/**
 * The agent bundle as it ships (the file systemd runs), built into the caller's own folder:
 * suites rebuilding at the same time cannot hand a half-written file to an agent started here.
 */
export function buildAgent(outfile: string): string {
  execFileSync('npm', ['run', 'build', '-w', 'node-agent', '--', `--outfile=${outfile}`], { cwd: ROOT, stdio: 'ignore' });
  return outfile;
}

export type LogLine = { level?: string; msg?: string; [k: string]: unknown };

/** Polls `probe` every `everyMs` until it returns something truthy; benches poll finer to time more closely. */
export async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | null | false | Promise<T | undefined | null | false>, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** One `edgeport-agent run` process; its JSON log lines are collected as they come. */
export class AgentProcess {
  readonly lines: LogLine[] = [];
  stdout = '';
  stderr = '';
  exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private readonly exited: Promise<void>;
  private readonly child: ChildProcess;

  /** Runs `node <agent> run`; `registry` collects every process so a suite can stop them all. */
  constructor(agent: string, registry: AgentProcess[], env: Record<string, string>) {
    this.child = spawn('node', [agent, 'run'], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        try {
          this.lines.push(JSON.parse(p) as LogLine);
        } catch {
          this.lines.push({ msg: p, level: 'raw' });
        }
      }
    });
    this.child.stderr?.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => ((this.exit = { code, signal }), resolve())));
    registry.push(this);
  }

  messages(msg: string, from = 0): LogLine[] {
    return this.lines.slice(from).filter((l) => l.msg === msg);
  }

  line(msg: string, timeoutMs = 20_000, match: (l: LogLine) => boolean = () => true, from = 0): Promise<LogLine> {
    return until(`log "${msg}"\n${this.stdout.slice(-3000)}\n${this.stderr}`, timeoutMs, () => {
      if (this.exit) throw new Error(`agent exited (${JSON.stringify(this.exit)}) before "${msg}":\n${this.stdout}\n${this.stderr}`);
      return this.lines.slice(from).find((l) => l.msg === msg && match(l));
    });
  }

  async metrics(): Promise<Map<string, number>> {
    const started = await this.line('agent started');
    const text = await (await fetch(started.metrics as string)).text();
    const m = new Map<string, number>();
    for (const l of text.split('\n')) {
      const hit = /^([a-z_]+(?:\{[^}]*\})?) (\S+)$/.exec(l);
      if (hit) m.set(hit[1] as string, Number(hit[2]));
    }
    return m;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (!this.exit) this.child.kill(signal);
    const killer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(killer);
  }
}
