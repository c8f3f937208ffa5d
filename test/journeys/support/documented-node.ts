/**
 * A node set up the way infra/README.md ("Nodes") tells an administrator to, on a machine of
 * its own: the bundle installed, `agent.env` from the shipped example with its values edited,
 * `enroll` with the command the portal's answer holds, then the unit's `ExecStart` run with
 * what systemd gives it. Two things cannot run here and are replaced by their closest real
 * equivalents: `systemctl enable --now` (the unit's command is run directly, with the
 * environment its `EnvironmentFile=`, `LoadCredential=`, `StateDirectory=` and
 * `RuntimeDirectory=` lines make), and the machine itself (a network namespace, named in
 * `EDGEPORT_NETNS`, holds the node's data plane; everything lives under a temporary root
 * instead of /opt, /etc and /var).
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AgentProcess } from '../../support/agent-process.ts';

const execFileP = promisify(execFile);

/** `KEY=value` lines as systemd's EnvironmentFile= reads them (comments and blank lines skipped). */
export function environmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1] as string] = (m[2] as string).trim();
  }
  return env;
}

/** The example file with some values changed and commented-out settings switched on, as an admin edits it. */
export function editedEnvFile(example: string, values: Record<string, string>): string {
  const seen = new Set<string>();
  const lines = example.split('\n').map((line) => {
    const m = /^#?\s*([A-Z_][A-Z0-9_]*)=/.exec(line);
    const key = m?.[1];
    if (!key || !(key in values)) return line;
    seen.add(key);
    return `${key}=${values[key]}`;
  });
  for (const [k, v] of Object.entries(values)) if (!seen.has(k)) lines.push(`${k}=${v}`);
  return lines.join('\n');
}

export interface DocumentedNode {
  agent: AgentProcess;
  root: string;
  envFile: string;
}

/**
 * Steps 3 of infra/README.md: install, edit agent.env, enroll with `command` (the portal's
 * `edgeport-agent enroll …` answer), start. `registry` collects the agent process for cleanup.
 */
export async function installNode(o: { copy: string; root: string; command: string; settings: Record<string, string>; registry: AgentProcess[] }): Promise<DocumentedNode> {
  const opt = join(o.root, 'opt/edgeport-agent');
  const etc = join(o.root, 'etc/edgeport-agent');
  mkdirSync(opt, { recursive: true });
  mkdirSync(etc, { recursive: true, mode: 0o700 });
  // install -D -m 0644 node-agent/dist/edgeport-agent.mjs /opt/edgeport-agent/edgeport-agent.mjs
  const bundle = join(opt, 'edgeport-agent.mjs');
  copyFileSync(join(o.copy, 'node-agent/dist/edgeport-agent.mjs'), bundle);
  // install -D -m 0644 infra/systemd/agent.env.example /etc/edgeport-agent/agent.env   # then edit it
  const envFile = join(etc, 'agent.env');
  writeFileSync(envFile, editedEnvFile(readFileSync(join(o.copy, 'infra/systemd/agent.env.example'), 'utf8'), o.settings), { mode: 0o644 });
  // node /opt/edgeport-agent/edgeport-agent.mjs enroll --portal … --node … --token …  (the credential
  // goes to the temporary root's etc instead of /etc: --credential-file)
  const [name, ...args] = o.command.split(' ');
  if (name !== 'edgeport-agent' || args[0] !== 'enroll') throw new Error(`unexpected enrollment command: ${o.command}`);
  await execFileP('node', [bundle, ...args, '--credential-file', join(etc, 'node-credential')], { timeout: 30_000 });
  // systemctl enable --now edgeport-agent: LoadCredential= copies the credential into a
  // directory named by $CREDENTIALS_DIRECTORY; StateDirectory=/RuntimeDirectory= make these.
  const credentials = join(o.root, 'run/credentials/edgeport-agent.service');
  mkdirSync(credentials, { recursive: true, mode: 0o700 });
  copyFileSync(join(etc, 'node-credential'), join(credentials, 'node-credential'));
  const state = join(o.root, 'var/lib/edgeport-agent');
  const runtime = join(o.root, 'run/edgeport-agent');
  mkdirSync(state, { recursive: true, mode: 0o700 });
  mkdirSync(runtime, { recursive: true, mode: 0o700 });
  const env = { ...environmentFile(readFileSync(envFile, 'utf8')), CREDENTIALS_DIRECTORY: credentials, STATE_DIRECTORY: state, RUNTIME_DIRECTORY: runtime };
  return { agent: new AgentProcess(bundle, o.registry, env), root: o.root, envFile };
}
