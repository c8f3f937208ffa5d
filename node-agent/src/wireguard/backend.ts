import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger, WireguardBackend, WireguardInterfaceSpec, WireguardObserved, WireguardPeerSpec } from '../backends/types.ts';
import { canonicalCidr, parseIpAddressJson, type LinkState } from './addresses.ts';
import { parseDump } from './dump.ts';
import { ensurePrivateKeyFile, publicKeyOfFile } from './keys.ts';
import { DEFAULT_PEERS_PER_CALL, wgSetArgs } from './peers.ts';
import { CommandError, createRunner, type Runner } from './run.ts';

export interface WireguardBackendOptions {
  stateDir: string;
  logger: Logger;
  interfaceName: string;
  /** 'auto': kernel module if `ip link add … type wireguard` works, else wireguard-go. */
  userspace?: 'auto' | 'always' | 'never';
  /** Run every command inside this network namespace (`ip netns exec <ns> …`). */
  netns?: string;
  /** Replaces the command runner (tests wrap it to count calls); excludes `netns`. */
  run?: Runner;
  peersPerCall?: number;
  /** Where wireguard-go puts its UAPI sockets; one directory for all namespaces. */
  uapiDir?: string;
  /** Bound on waiting for a freshly started wireguard-go to be reachable. */
  startTimeoutMs?: number;
}

// wg(8) and the kernel accept these in interface names; IFNAMSIZ leaves 15 characters.
const IFNAME_RE = /^[A-Za-z0-9_=+.][A-Za-z0-9_=+.-]{0,14}$/;

// Variables that change how wireguard-go daemonizes. With LOG_LEVEL set (a common name for the
// agent's own log level) the daemon keeps our stdout pipe: we would wait on it forever and the
// daemon would die of SIGPIPE once the agent is gone.
const WIREGUARD_GO_ENV_DROP = ['LOG_LEVEL', 'WG_PROCESS_FOREGROUND', 'WG_TUN_FD', 'WG_UAPI_FD'];

export function createWireguardBackend(opts: WireguardBackendOptions): WireguardBackend {
  const { logger, interfaceName: name } = opts;
  if (!IFNAME_RE.test(name)) throw new Error(`invalid WireGuard interface name: ${JSON.stringify(name)}`);
  if (opts.run && opts.netns) throw new Error('createWireguardBackend: give either run or netns, not both');
  const run = opts.run ?? createRunner(opts.netns ? { netns: opts.netns } : {});
  const userspace = opts.userspace ?? 'auto';
  const keyPath = join(resolve(opts.stateDir), 'wireguard.key');
  const uapiSocket = join(opts.uapiDir ?? '/var/run/wireguard', `${name}.sock`);
  const peersPerCall = opts.peersPerCall ?? DEFAULT_PEERS_PER_CALL;

  /** Null when the link does not exist in our namespace. */
  async function linkState(): Promise<LinkState | null> {
    try {
      return parseIpAddressJson(await run(['ip', '-j', 'address', 'show', 'dev', name]));
    } catch (e) {
      if (e instanceof CommandError && /does not exist/i.test(e.output)) return null;
      throw e;
    }
  }

  async function create(): Promise<void> {
    if (userspace !== 'always') {
      try {
        await run(['ip', 'link', 'add', name, 'type', 'wireguard']);
        logger.info('wireguard: created kernel interface', { interface: name });
        return;
      } catch (e) {
        if (userspace === 'never') throw e;
        logger.info('wireguard: no kernel WireGuard, using wireguard-go', { interface: name, reason: String(e) });
      }
    }
    const env = { ...process.env };
    for (const k of WIREGUARD_GO_ENV_DROP) delete env[k];
    // Default (daemonizing) mode: the parent exits once the TUN device and UAPI socket exist, and
    // the daemon outlives the agent so tunnels survive agent restarts. Its own session keeps it
    // clear of signals sent to the agent's process group.
    try {
      await run(['wireguard-go', name], { env, detached: true });
    } catch (e) {
      throw explainWireguardGoFailure(e, name);
    }
    const deadline = Date.now() + (opts.startTimeoutMs ?? 5_000);
    for (;;) {
      const ready = (await exists(uapiSocket)) && (await linkState()) !== null;
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`wireguard-go ${name}: no UAPI socket at ${uapiSocket} after start`);
      await sleep(50);
    }
    logger.info('wireguard: started wireguard-go', { interface: name });
  }

  return {
    async ensureInterface(spec: WireguardInterfaceSpec) {
      if (spec.name !== name) throw new Error(`wireguard backend manages ${name}, asked for ${spec.name}`);
      if (!Number.isInteger(spec.listenPort) || spec.listenPort < 1 || spec.listenPort > 65535) {
        throw new Error(`invalid WireGuard listen port: ${spec.listenPort}`);
      }
      const wanted = [...new Set(spec.addresses.map(canonicalCidr))];

      await ensurePrivateKeyFile(keyPath, run, logger);
      const publicKey = await publicKeyOfFile(keyPath, run);

      let link = await linkState();
      if (!link) {
        await create();
        link = await linkState();
        if (!link) throw new Error(`wireguard: interface ${name} missing right after creation`);
      }

      // Only touch what differs: re-setting the listen port makes wireguard-go rebind its socket.
      const current = parseDump(await run(['wg', 'show', name, 'dump']));
      if (current.publicKey !== publicKey || current.listenPort !== spec.listenPort) {
        await run(['wg', 'set', name, 'listen-port', String(spec.listenPort), 'private-key', keyPath]);
        logger.info('wireguard: set key and listen port', { interface: name, listenPort: spec.listenPort, publicKey });
      }

      // Deletions first, then a fresh look: dropping a primary address makes the kernel drop the
      // secondaries of its subnet too, which may include addresses we want to keep.
      const extra = link.addresses.filter((a) => !wanted.includes(a));
      for (const a of extra) {
        await run(['ip', 'address', 'del', a, 'dev', name]);
        logger.info('wireguard: address removed', { interface: name, address: a });
      }
      if (extra.length > 0) link = (await linkState()) ?? link;
      for (const a of wanted) {
        if (link.addresses.includes(a)) continue;
        await run(['ip', 'address', 'replace', a, 'dev', name]);
        logger.info('wireguard: address added', { interface: name, address: a });
      }
      if (!link.up) await run(['ip', 'link', 'set', name, 'up']);
      return { publicKey };
    },

    async observe(): Promise<WireguardObserved> {
      // The link is checked in our namespace first: `wg show` alone would also reach a
      // wireguard-go of the same name in another namespace through the shared UAPI directory.
      const link = await linkState();
      if (!link) return { exists: false, publicKey: null, listenPort: null, addresses: [], peers: new Map() };
      const dump = parseDump(await run(['wg', 'show', name, 'dump']));
      return {
        exists: true,
        publicKey: dump.publicKey,
        listenPort: dump.listenPort,
        addresses: link.addresses,
        peers: dump.peers,
      };
    },

    async applyPeers(upsert: readonly WireguardPeerSpec[], remove: readonly string[]) {
      const calls = wgSetArgs(name, upsert, remove, peersPerCall);
      if (calls.length === 0) return;
      const started = Date.now();
      for (const argv of calls) await run(argv);
      logger.info('wireguard: peers applied', {
        interface: name,
        upserted: upsert.length,
        removed: remove.length,
        calls: calls.length,
        ms: Date.now() - started,
      });
    },
  };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** wireguard-go wraps its one useful line in a banner; keep the line and say what it means here. */
function explainWireguardGoFailure(e: unknown, name: string): unknown {
  if (!(e instanceof CommandError)) return e;
  const lines = e.output.split('\n').filter((l) => !/^[\s\u2500-\u257f]*$/.test(l) && !/^\s*\u2502/.test(l));
  let output = lines.join('\n');
  if (/socket in use/i.test(output)) {
    output += `\n(an interface named ${name} already runs in another network namespace: wireguard-go UAPI sockets are global)`;
  }
  return new CommandError(e.argv, e.exitCode, e.signal, output);
}
