import { constants } from 'node:fs';
import { access, readFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { startAgent } from './agent.ts';
import type { Logger, OpenvpnBackend } from './backends/types.ts';
import { ConfigError, loadConfig, type AgentConfig } from './config.ts';
import { createFakeBackend } from './fake-backend.ts';
import { jsonLogger } from './log.ts';
import { createOpenvpnBackend } from './openvpn/backend.ts';
import { cpuHasAes } from './ovpn-loop.ts';
import { AGENT_VERSION } from './version.ts';
import { createWireguardBackend } from './wireguard/backend.ts';

type Env = Record<string, string | undefined>;

/** The first executable `name` on PATH, or null. */
export async function findExecutable(name: string, path: string | undefined): Promise<string | null> {
  for (const d of (path ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    if (!d) continue;
    const file = join(d, name);
    if (
      await access(file, constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return file;
  }
  return null;
}

/**
 * OpenVPN runs with the system backend when the `openvpn` binary is there. Without it the node
 * still serves WireGuard and tells the portal (capabilities) that it has no OpenVPN.
 */
async function openvpnFor(config: AgentConfig, env: Env, logger: Logger): Promise<{ backend: OpenvpnBackend; runDir: string; preferAes: boolean } | null> {
  if (config.backend !== 'system') return null;
  const openvpnPath = await findExecutable('openvpn', env.PATH);
  if (!openvpnPath) {
    logger.warn('openvpn not found on PATH; this node serves WireGuard only', { path: env.PATH ?? null });
    return null;
  }
  const runDir = join(config.runDir, 'openvpn');
  const backend = createOpenvpnBackend({ runDir, stateDir: join(config.stateDir, 'openvpn-log'), logger, openvpnPath, ...(config.netns ? { netns: config.netns } : {}) });
  const preferAes = cpuHasAes(await readFile('/proc/cpuinfo', 'utf8').catch(() => ''));
  return { backend, runDir, preferAes };
}

/**
 * `edgeport-agent run`: the daemon systemd starts. Exit codes: 2 for a bad setting (the message
 * names the variable), 0 after SIGTERM/SIGINT, which leave tunnels up for the next start.
 */
export async function runAgent(env: Env): Promise<number> {
  let config: AgentConfig;
  try {
    config = loadConfig(env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'configuration error', error: err.message })}\n`);
    return 2;
  }
  const logger = jsonLogger();
  // Listening before start-up work: a stop during the first apply still ends in a clean exit 0.
  // `on`, not `once`: a second signal while stopping (a process group's, then its parent's) is
  // absorbed instead of killing the agent halfway through its orderly stop.
  const stopped = new Promise<string>((resolve) => {
    process.on('SIGTERM', () => resolve('SIGTERM'));
    process.on('SIGINT', () => resolve('SIGINT'));
  });
  const wireguard =
    config.backend === 'fake'
      ? await createFakeBackend(config.stateDir, logger)
      : createWireguardBackend({ stateDir: config.stateDir, logger, interfaceName: config.wgInterface, ...(config.netns ? { netns: config.netns } : {}) });
  const openvpn = await openvpnFor(config, env, logger);
  const agent = await startAgent(config, {
    version: AGENT_VERSION,
    logger,
    wireguard,
    ...(openvpn ? { openvpn } : {}),
    metrics: { host: config.metricsHost, port: config.metricsPort },
  });
  const host = config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost;
  // Never the credential: only where it goes and what runs.
  logger.info('agent started', {
    version: AGENT_VERSION,
    node: config.nodeId,
    portals: config.portalUrls.map((u) => u.origin),
    backend: config.backend,
    netns: config.netns,
    openvpn: openvpn !== null,
    metrics: `http://${host}:${agent.metricsPort}/metrics`,
  });
  const signal = await stopped;
  logger.info('stopping; tunnels stay up', { signal });
  await agent.stop();
  // Detached, not stopped: the servers keep their clients until the next agent adopts them.
  await openvpn?.backend.close(false);
  return 0;
}
