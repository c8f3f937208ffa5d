import type { DesiredConfig } from '@edgeport/schema';
import type { Logger, OpenvpnBackend, WireguardBackend } from './backends/types.ts';
import type { Backoff } from './backoff.ts';
import { ChannelClient, type Capability } from './channel.ts';
import type { AgentConfig } from './config.ts';
import { startMetrics, type MetricsServer, type MetricsState } from './metrics.ts';
import { reconcile, type Action } from './reconcile.ts';
import { openvpnLoop } from './ovpn-loop.ts';
import { sessionTotal, sessionsReport } from './reports.ts';
import { loadDesired, saveDesired } from './state.ts';

/** Expired peers and certificates leave the machine within this long even while the portal is away. */
export const RECONCILE_EVERY_MS = 30_000;

export type AgentSettings = Pick<AgentConfig, 'portalUrls' | 'nodeId' | 'credential' | 'stateDir' | 'wgInterface' | 'heartbeatMs' | 'sessionsMs'>;

export interface AgentDeps {
  version: string;
  logger: Logger;
  wireguard: WireguardBackend;
  /**
   * The OpenVPN side, when this node runs it: servers per OpenVPN profile with a key made here and
   * a certificate from the portal; admission answered from the local config. `runDir` is the
   * backend's (the configs name its management sockets).
   */
  openvpn?: { backend: OpenvpnBackend; runDir: string; preferAes: boolean };
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
 * The agent's event loop (docs/conventions.md §9): the saved config is applied first, without the
 * portal, so tunnels come back after an agent restart even during a portal outage; then the
 * channel keeps the config current. Every apply is `reconcile(desired, observed)` → actions →
 * backend, one at a time.
 */
export async function startAgent(s: AgentSettings, d: AgentDeps): Promise<RunningAgent> {
  const { logger, wireguard } = d;
  const openvpn = d.openvpn?.backend ?? null;
  const now = d.now ?? Date.now;
  const ovpn = d.openvpn ? openvpnLoop({ backend: d.openvpn.backend, nodeId: s.nodeId, stateDir: s.stateDir, runDir: d.openvpn.runDir, preferAes: d.openvpn.preferAes, logger, now }) : null;
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
      void followOpenvpn(config);
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

  // OpenVPN servers follow the config on a chain of their own: starting or restarting a server
  // takes up to seconds, while an ack (what /connect waits for) needs only the peers and the
  // admission set, which apply() puts in place. Configs that pile up meanwhile collapse into the
  // latest. A server that fails to start does not fail anything: the backend keeps retrying it.
  let ovpnChain: Promise<void> = Promise.resolve();
  let ovpnNext: DesiredConfig | null = null;
  function followOpenvpn(config: DesiredConfig): Promise<void> {
    if (!ovpn) return ovpnChain;
    const queued = ovpnNext !== null;
    ovpnNext = config;
    if (!queued) {
      ovpnChain = ovpnChain.then(async () => {
        const next = ovpnNext as DesiredConfig;
        ovpnNext = null;
        try {
          await ovpn.apply(next);
        } catch (err) {
          logger.error('openvpn: applying the servers failed', { revision: next.revision, error: String(err) });
        }
        // Only on an established connection: a refusal before that reads as a rejected hello.
        const c = channel;
        if (c?.ready) await ovpn.requestCertificates(next, (m) => c.send(m)).catch((err: unknown) => logger.error('openvpn: certificate requests failed', { error: String(err) }));
      });
    }
    return ovpnChain;
  }

  /** A certificate from the portal: stored, then the profile's servers start (or restart with it). */
  async function certificate(profileId: string, certPem: string): Promise<void> {
    if (!ovpn) return logger.warn('OpenVPN server certificate received, but this node runs no OpenVPN', { profile: profileId });
    try {
      if ((await ovpn.receive(desired, profileId, certPem)) && desired) void followOpenvpn(desired);
    } catch (err) {
      logger.error('openvpn: storing the server certificate failed', { profile: profileId, error: String(err) });
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
    // With the stored certificates the servers are back before the portal is asked anything.
    await ovpnChain;
  } else {
    // Nothing saved: an interface left from before still tells the hub our key in the first hello.
    learnKey(
      await wireguard.observe().then(
        (o) => o.publicKey,
        () => null,
      ),
    );
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
    onEstablished: () => {
      ovpn?.connected();
      ovpn?.flushEvents();
      if (desired) void followOpenvpn(desired);
    },
    host: { desired: () => desired, install, appliedRevision: () => applied, wgPublicKey: () => wgKey, capabilities: () => capabilities, certificate },
  });
  ovpn?.forwardEvents((m) => channel?.send(m) ?? false);
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
      await ovpnChain;
      await metricsServer?.close();
    },
  };
}
