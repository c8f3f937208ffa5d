import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The agent's settings: `EDGEPORT_*` variables, the node credential from a systemd credential. */
export interface AgentConfig {
  /** One or more portal origins (the HA shape lists several; the agent moves on when one fails). */
  portalUrls: URL[];
  nodeId: string;
  credential: string;
  stateDir: string;
  runDir: string;
  wgInterface: string;
  /** Network namespace the VPN data plane (wireguard-go/wg, openvpn) runs in; the agent itself stays outside. */
  netns: string | null;
  metricsHost: string;
  metricsPort: number;
  heartbeatMs: number;
  sessionsMs: number;
  backend: 'system' | 'fake';
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const v = env[name]?.trim();
  if (!v) throw new ConfigError(`${name} is not set`);
  return v;
}

function seconds(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return def * 1000;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`${name} must be a number of seconds from ${min} to ${max}, got "${raw}"`);
  return n * 1000;
}

/**
 * The credential comes from `$CREDENTIALS_DIRECTORY/node-credential` (systemd `LoadCredential=`)
 * or the file named by EDGEPORT_CREDENTIAL_FILE; never from an environment variable, which
 * would show in /proc and in crash reports.
 */
function credential(env: Env): string {
  const file = env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, 'node-credential') : env.EDGEPORT_CREDENTIAL_FILE;
  if (!file) throw new ConfigError('no node credential: set LoadCredential=node-credential:… in the unit, or EDGEPORT_CREDENTIAL_FILE');
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`cannot read the node credential at ${file}: ${(err as Error).message}`);
  }
  if (!/^[A-Za-z0-9._~-]{32,512}$/.test(text)) throw new ConfigError(`the node credential at ${file} is malformed`);
  return text;
}

/** Checks everything at start-up and names the variable that is wrong. */
export function loadConfig(env: Env): AgentConfig {
  const portalUrls = required(env, 'EDGEPORT_PORTAL_URLS')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => {
      let url: URL;
      try {
        url = new URL(s);
      } catch {
        throw new ConfigError(`EDGEPORT_PORTAL_URLS: "${s}" is not a URL`);
      }
      if (url.protocol !== 'https:' && !(url.protocol === 'http:' && /^(127\.|\[::1\]|localhost)/.test(url.host))) {
        throw new ConfigError(`EDGEPORT_PORTAL_URLS: "${s}" must be https (plain http only on loopback)`);
      }
      return url;
    });
  if (!portalUrls.length) throw new ConfigError('EDGEPORT_PORTAL_URLS is empty');
  const nodeId = required(env, 'EDGEPORT_NODE_ID');
  if (!/^[a-z0-9][a-z0-9._-]{0,62}$/.test(nodeId)) throw new ConfigError(`EDGEPORT_NODE_ID "${nodeId}" is not a node id`);
  const wgInterface = env.EDGEPORT_WG_INTERFACE?.trim() || 'wg0';
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(wgInterface)) throw new ConfigError(`EDGEPORT_WG_INTERFACE "${wgInterface}" is not an interface name (1-15 characters)`);
  const metrics = (env.EDGEPORT_METRICS_ADDR?.trim() || '127.0.0.1:9570').match(/^(127\.\d+\.\d+\.\d+|\[::1\]|localhost):(\d{1,5})$/);
  if (!metrics) throw new ConfigError('EDGEPORT_METRICS_ADDR must be a loopback host:port, e.g. 127.0.0.1:9570');
  // The data plane may live in its own namespace (its own addresses and routes) while the agent
  // keeps the host's route to the portal; the namespace must exist before the agent starts.
  const netns = env.EDGEPORT_NETNS?.trim() || null;
  if (netns !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) throw new ConfigError(`EDGEPORT_NETNS "${netns}" is not a namespace name`);
  const backend = env.EDGEPORT_BACKEND?.trim() || 'system';
  if (backend !== 'system' && backend !== 'fake') throw new ConfigError(`EDGEPORT_BACKEND must be "system" or "fake", got "${backend}"`);
  return {
    portalUrls,
    nodeId,
    credential: credential(env),
    stateDir: env.EDGEPORT_STATE_DIR?.trim() || env.STATE_DIRECTORY?.trim() || '/var/lib/edgeport-agent',
    runDir: env.EDGEPORT_RUN_DIR?.trim() || env.RUNTIME_DIRECTORY?.trim() || '/run/edgeport-agent',
    wgInterface,
    netns,
    metricsHost: (metrics[1] as string).replace(/^\[|\]$/g, ''),
    metricsPort: Number(metrics[2]),
    heartbeatMs: seconds(env, 'EDGEPORT_HEARTBEAT_SECONDS', 10, 1, 300),
    sessionsMs: seconds(env, 'EDGEPORT_SESSIONS_SECONDS', 10, 1, 3600),
    backend,
  };
}
