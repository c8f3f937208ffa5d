import { startAgent } from './agent.ts';
import { ConfigError, loadConfig, type AgentConfig } from './config.ts';
import { createFakeBackend } from './fake-backend.ts';
import { jsonLogger } from './log.ts';
import { AGENT_VERSION } from './version.ts';
import { createWireguardBackend } from './wireguard/backend.ts';

type Env = Record<string, string | undefined>;

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
  const stopped = new Promise<string>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const wireguard =
    config.backend === 'fake'
      ? await createFakeBackend(config.stateDir, logger)
      : createWireguardBackend({ stateDir: config.stateDir, logger, interfaceName: config.wgInterface });
  const agent = await startAgent(config, { version: AGENT_VERSION, logger, wireguard, metrics: { host: config.metricsHost, port: config.metricsPort } });
  const host = config.metricsHost.includes(':') ? `[${config.metricsHost}]` : config.metricsHost;
  // Never the credential: only where it goes and what runs.
  logger.info('agent started', {
    version: AGENT_VERSION,
    node: config.nodeId,
    portals: config.portalUrls.map((u) => u.origin),
    backend: config.backend,
    metrics: `http://${host}:${agent.metricsPort}/metrics`,
  });
  const signal = await stopped;
  logger.info('stopping; tunnels stay up', { signal });
  await agent.stop();
  return 0;
}
