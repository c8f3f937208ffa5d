import type { DesiredConfig } from '@edgeport/schema';
import type { Logger, OpenvpnBackend, WireguardBackend } from './backends/types.ts';
import type { Backoff } from './backoff.ts';
import { ChannelClient, type Capability } from './channel.ts';
import type { AgentConfig } from './config.ts';
import { startMetrics, type MetricsServer, type MetricsState } from './metrics.ts';
import { reconcile, type Action } from './reconcile.ts';
import { sessionTotal, sessionsReport } from './reports.ts';
import { loadDesired, saveDesired } from './state.ts';

/** Expired peers and certificates leave the machine within this long even while the portal is away. */
export const RECONCILE_EVERY_MS = 30_000;

export type AgentSettings = Pick<AgentConfig, 'portalUrls' | 'nodeId' | 'credential' | 'stateDir' | 'wgInterface' | 'heartbeatMs' | 'sessionsMs'>;

export interface AgentDeps {
  version: string;
  logger: Logger;
  wireguard: WireguardBackend;
  /** The OpenVPN side, when this node runs it: the agent answers admission from its local config. */
  openvpn?: Pick<OpenvpnBackend, 'setAllowed' | 'clients'>;
  /** Loopback address for /metrics; null: no metrics server. */
  metrics?: { host: string; port: number } | null;
  reconcileEveryMs?: number;
  backoff?: Backoff;
  settleMs?: number;
  now?: () => number;
}

export interface RunningAgent {
  /** The bound metrics port (useful with port 0), null without a metrics server. */
  metricsPort: number | null;
  metrics(): MetricsState;
  /** Closes the socket and stops timers; tunnels stay up (the next start picks them up unchanged). */
  stop(): Promise<void>;
}

/**
 * The agent's event loop (CONVENTIONS habit 9): the saved config is applied first, without the
 * portal, so tunnels come back after an agent restart even during a portal outage; then the
 * channel keeps the config current. Every apply is `reconcile(desired, observed)` → actions →
 * backend, one at a time.
 */
export async function startAgent(s: AgentSettings, d: AgentDeps): Promise<RunningAgent> {
  const { logger, wireguard, openvpn } = d;
  const now = d.now ?? Date.now;
  let desired: DesiredConfig | null = null;
  let applied: number | null = null;
  let wgKey: string | null = null;
  let channel: ChannelClient | null = null;
  const state: MetricsState = { version: d.version, connected: false, appliedRevision: null, peers: 0, sessions: 0, reconnects: 0 };

  // Applies never overlap: a periodic re-reconcile and a pushed delta would race on the backend.
  let lock: Promise<unknown> = Promise.resolve();
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = lock.then(fn);
    lock = run.catch(() => undefined);
    return run;
  };

  const learnKey = (key: string | null) => {
    if (!key || key === wgKey) return;
    wgKey = key;
    channel?.keyChanged();
  };

  async function run(action: Action): Promise<void> {
    switch (action.kind) {
      case 'wg_interface':
        learnKey((await wireguard.ensureInterface(action.spec)).publicKey);
        return;
      case 'wg_peers':
        await wireguard.applyPeers(action.upsert, action.remove);
        return;
      case 'ovpn_allowed':
        await openvpn?.setAllowed(action.allowed);
        return;
    }
  }

  /** Makes the machine match `config`; false (logged) if the backend failed: the next periodic pass retries. */
  async function apply(config: DesiredConfig, why: string): Promise<boolean> {
    try {
      const observed = await wireguard.observe();
      learnKey(observed.publicKey);
      const actions = reconcile(config, { wireguard: observed }, now(), s.wgInterface);
      for (const action of actions) await run(action);
      const changed = actions.filter((a) => a.kind !== 'ovpn_allowed');
      if (changed.length) state.peers = (await wireguard.observe()).peers.size;
      else state.peers = observed.peers.size;
      if (changed.length || applied !== config.revision) logger.info('config applied', { why, revision: config.revision, actions: changed.map((a) => a.kind), peers: state.peers });
      applied = config.revision;
      state.appliedRevision = applied;
      return true;
    } catch (err) {
      logger.error('applying the config failed', { why, revision: config.revision, error: String(err) });
      return false;
    }
  }

  /** A config from the portal: on disk first (what a restart comes back to), then on the machine. */
  const install = (config: DesiredConfig): Promise<boolean> =>
    serial(async () => {
      try {
        await saveDesired(s.stateDir, config);
      } catch (err) {
        logger.error('saving the config failed; not applied', { revision: config.revision, error: String(err) });
        return false;
      }
      desired = config;
      return apply(config, 'portal');
    });

  const metricsServer: MetricsServer | null = d.metrics ? await startMetrics(d.metrics.host, d.metrics.port, () => ({ ...state })) : null;

  const saved = await loadDesired(s.stateDir);
  if (saved && saved.node_id !== s.nodeId) {
    logger.warn('saved config belongs to another node; waiting for the portal', { saved_node: saved.node_id });
  } else if (saved) {
    desired = saved;
    logger.info('applying the saved config', { revision: saved.revision });
    await serial(() => apply(saved, 'startup'));
  } else {
    // Nothing saved: an interface left from before still tells the hub our key in the first hello.
    learnKey(await wireguard.observe().then((o) => o.publicKey, () => null));
  }

  const capabilities: Capability[] = openvpn ? ['wireguard', 'openvpn'] : ['wireguard'];
  channel = new ChannelClient({
    portals: s.portalUrls,
    nodeId: s.nodeId,
    credential: s.credential,
    agentVersion: d.version,
    heartbeatMs: s.heartbeatMs,
    logger,
    ...(d.backoff ? { backoff: d.backoff } : {}),
    ...(d.settleMs !== undefined ? { settleMs: d.settleMs } : {}),
    onConnected: (up) => {
      state.connected = up;
    },
    onReconnect: () => {
      state.reconnects += 1;
    },
    host: { desired: () => desired, install, appliedRevision: () => applied, wgPublicKey: () => wgKey, capabilities: () => capabilities },
  });
  channel.start();

  const periodic = setInterval(() => {
    void serial(async () => {
      const config = desired;
      if (!config) return;
      const before = applied;
      // A config that failed to apply earlier is acked once it finally does.
      if ((await apply(config, 'periodic')) && before !== config.revision) channel?.applied(config.revision);
    });
  }, d.reconcileEveryMs ?? RECONCILE_EVERY_MS);

  const reporter = setInterval(() => {
    void (async () => {
      const observed = await wireguard.observe();
      const report = sessionsReport(desired, observed.peers, openvpn ? await openvpn.clients() : [], now());
      state.peers = observed.peers.size;
      state.sessions = sessionTotal(report);
      channel?.send(report);
    })().catch((err: unknown) => logger.warn('sessions report failed', { error: String(err) }));
  }, s.sessionsMs);

  return {
    metricsPort: metricsServer?.port ?? null,
    metrics: () => ({ ...state }),
    async stop() {
      clearInterval(periodic);
      clearInterval(reporter);
      await channel?.stop();
      await lock;
      await metricsServer?.close();
    },
  };
}
