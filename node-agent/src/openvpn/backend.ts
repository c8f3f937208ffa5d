/**
 * The OpenVPN backend: supervises one `openvpn` server per spec, owns each management socket, and
 * answers admission there from the allowed set (the node-side checks of docs/eduvpn.md §3.2, without a
 * round trip to the portal, so clients keep being admitted while the portal is away).
 */
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger, OpenvpnBackend, OpenvpnClient, OpenvpnEvent, OpenvpnProcessSpec } from '../backends/types.ts';
import type { ManagementClient } from './management.ts';
import type { ManagementMessage, StatusClient } from './management-protocol.ts';
import { isOurServer, killServer, pathsOf, ServerProcess, type ProcessContext } from './process.ts';

export interface OpenvpnBackendOptions {
  /** Configs, pid files and management sockets; a directory only this backend writes to. */
  runDir: string;
  /** The servers' output (`<name>.log`, truncated at each start). */
  stateDir: string;
  logger: Logger;
  openvpnPath?: string;
  /** Runs the servers via `ip netns exec <netns>` (tests). */
  netns?: string;
  /** Epoch milliseconds; event times are reported in epoch seconds, like OpenVPN's own. */
  now?: () => number;
}

export type Admission = { admit: true } | { admit: false; reason: string };

/**
 * Whether a client waiting in `>CLIENT:CONNECT`/`REAUTH` on a server of `profileId` may connect: its
 * certificate's CN must be in the allowed set for this very profile, and the certificate's OU must
 * name the profile too (a certificate is only ever issued for one profile, docs/eduvpn.md §1.3 step 6).
 */
export function admission(allowed: ReadonlyMap<string, string>, profileId: string, env: Readonly<Record<string, string>>): Admission {
  const cn = env.common_name ?? '';
  const certProfile = allowed.get(cn);
  if (certProfile === undefined) return { admit: false, reason: 'unknown certificate' };
  if (certProfile !== profileId) return { admit: false, reason: `certificate is for profile ${certProfile}` };
  if (env.X509_0_OU !== profileId) return { admit: false, reason: 'certificate OU does not name this profile' };
  return { admit: true };
}

interface Session {
  commonName: string;
  ipFour: string | null;
  ipSix: string | null;
  originatingIp: string | null;
}

const sessionOf = (env: Readonly<Record<string, string>>): Session => ({
  commonName: env.common_name ?? '',
  ipFour: env.ifconfig_pool_remote_ip || null,
  ipSix: env.ifconfig_pool_remote_ip6 || null,
  originatingIp: env.trusted_ip || env.trusted_ip6 || null,
});

const bytes = (v: string | undefined) => (v === undefined ? undefined : Number(v) || 0);

/**
 * Whether a `status 3` row is a tunnel. OpenVPN lists a refused client too, without a virtual
 * address, until it reaps the instance about five seconds later (OpenVPN 2.6.14, measured).
 */
const hasTunnel = (c: StatusClient) => c.ipFour !== null || c.ipSix !== null;

export function createOpenvpnBackend(opts: OpenvpnBackendOptions): OpenvpnBackend {
  const { logger } = opts;
  const now = opts.now ?? Date.now;
  const processes = new Map<string, ServerProcess>();
  // Per process: the clients that got past ESTABLISHED, by cid, so a disconnect can be reported
  // with what the connect said and a refused client's DISCONNECT is not reported at all.
  const sessions = new WeakMap<ServerProcess, Map<number, Session>>();
  // Per process: cids admitted but not yet ESTABLISHED (no address yet), so a setAllowed in that
  // window still halts them.
  const admitted = new WeakMap<ServerProcess, Set<number>>();
  // Per process: cids told to halt, which OpenVPN keeps listing for a few seconds; not told twice.
  const halted = new WeakMap<ServerProcess, Set<number>>();
  const listeners: ((e: OpenvpnEvent) => void)[] = [];
  let allowed: ReadonlyMap<string, string> = new Map();
  // ensureProcesses and close run one at a time: each compares against the outcome of the previous.
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;

  const serial = <T>(work: () => Promise<T>): Promise<T> => {
    const next = chain.then(work);
    chain = next.catch(() => undefined);
    return next;
  };

  const emit = (e: OpenvpnEvent) => {
    for (const listener of listeners) {
      try {
        listener(e);
      } catch (err) {
        logger.error('openvpn: event listener failed', { error: String(err) });
      }
    }
  };

  const sessionsOf = (p: ServerProcess) => {
    let map = sessions.get(p);
    if (!map) sessions.set(p, (map = new Map()));
    return map;
  };

  const setOf = (sets: WeakMap<ServerProcess, Set<number>>, p: ServerProcess) => {
    let set = sets.get(p);
    if (!set) sets.set(p, (set = new Set()));
    return set;
  };
  const admittedOf = (p: ServerProcess) => setOf(admitted, p);

  /**
   * Reports the end of sessions that vanished without a DISCONNECT: their server was stopped or
   * died, or it was restarted while no agent watched. No byte counts: those died with the server.
   */
  function endSessions(p: ServerProcess, lost: Iterable<Session>): void {
    const at = Math.floor(now() / 1000);
    for (const s of lost) emit({ event: 'disconnect', at, profileId: p.spec.profileId, ...s });
  }

  /** Halts the clients on `p` that the allowed set no longer admits. */
  async function enforce(p: ServerProcess, client: ManagementClient): Promise<void> {
    for (const c of await client.status()) {
      if (!hasTunnel(c) && !admittedOf(p).has(c.cid)) continue; // refused already, or not yet answered
      if (allowed.get(c.commonName) === p.spec.profileId || setOf(halted, p).has(c.cid)) continue;
      setOf(halted, p).add(c.cid);
      logger.info('openvpn: halting client no longer allowed', { process: p.name, commonName: c.commonName, cid: c.cid });
      await client.clientKill(c.cid, 'HALT');
    }
  }

  async function answer(p: ServerProcess, client: ManagementClient, cid: number, kid: number, env: Record<string, string>): Promise<void> {
    const verdict = admission(allowed, p.spec.profileId, env);
    const commonName = env.common_name ?? '';
    if (verdict.admit) {
      admittedOf(p).add(cid);
      await client.clientAuthNt(cid, kid);
      logger.info('openvpn: client admitted', { process: p.name, commonName });
    } else {
      await client.clientDeny(cid, kid, verdict.reason);
      logger.info('openvpn: client refused', { process: p.name, commonName, reason: verdict.reason });
    }
  }

  const ctx: ProcessContext = {
    runDir: opts.runDir,
    logDir: opts.stateDir,
    logger,
    openvpnPath: opts.openvpnPath ?? 'openvpn',
    ...(opts.netns ? { netns: opts.netns } : {}),

    // After an adoption, a reconnect or a relaunch, the server's client list is the truth: learn
    // the clients already there (their connect was reported by whoever watched then), end the
    // sessions that are gone (cids restart at 0 in a new server, hence the CN check), and apply
    // the current allowed set.
    onConnected(p, client) {
      void (async () => {
        const before = sessionsOf(p);
        const after = new Map<number, Session>();
        for (const c of (await client.status()).filter(hasTunnel)) {
          const known = before.get(c.cid);
          after.set(c.cid, known?.commonName === c.commonName ? known : { commonName: c.commonName, ipFour: c.ipFour, ipSix: c.ipSix, originatingIp: c.realAddress });
        }
        sessions.set(p, after);
        // A relaunched server numbers its clients from 0 again: old cids mean nothing now.
        admitted.delete(p);
        halted.delete(p);
        const kept = new Set(after.values());
        endSessions(
          p,
          [...before.values()].filter((s) => !kept.has(s)),
        );
        await enforce(p, client);
      })().catch((err: Error) => logger.warn('openvpn: could not check clients after connecting', { process: p.name, error: err.message }));
    },

    onMessage(p, m: ManagementMessage, client) {
      if (m.kind === 'notification' && m.tag === 'FATAL') logger.error('openvpn: fatal', { process: p.name, message: m.text });
      if (m.kind !== 'client') return;
      const at = Math.floor(now() / 1000);
      switch (m.event) {
        case 'CONNECT':
        case 'REAUTH':
          // An unanswered client would hang until its hand-window ends; a failure here means the
          // connection broke, and the client retries against whoever owns the socket next.
          answer(p, client, m.cid, m.kid ?? 0, m.env).catch((err: Error) => logger.warn('openvpn: could not answer admission', { process: p.name, cid: m.cid, error: err.message }));
          return;
        case 'ESTABLISHED': {
          const s = sessionOf(m.env);
          admittedOf(p).delete(m.cid);
          sessionsOf(p).set(m.cid, s);
          emit({ event: 'connect', at, profileId: p.spec.profileId, ...s });
          return;
        }
        case 'DISCONNECT': {
          admittedOf(p).delete(m.cid);
          setOf(halted, p).delete(m.cid);
          const map = sessionsOf(p);
          const known = map.get(m.cid);
          if (!known) return;
          map.delete(m.cid);
          // The DISCONNECT environment repeats the addresses; the stored ones cover a client adopted
          // from status, whose ESTABLISHED environment this agent never saw.
          const env = sessionOf(m.env);
          const s: Session = {
            commonName: env.commonName || known.commonName,
            ipFour: env.ipFour ?? known.ipFour,
            ipSix: env.ipSix ?? known.ipSix,
            originatingIp: env.originatingIp ?? known.originatingIp,
          };
          emit({ event: 'disconnect', at, profileId: p.spec.profileId, ...s, rx: bytes(m.env.bytes_received), tx: bytes(m.env.bytes_sent) });
          return;
        }
        case 'CR_RESPONSE':
          return;
      }
    },
  };

  /** Servers a previous agent left behind for profiles or ports that are gone. */
  async function removeOrphans(keep: ReadonlySet<string>): Promise<void> {
    const names = new Set((await readdir(opts.runDir)).filter((f) => /\.(conf|pid|sock)$/.test(f)).map((f) => f.replace(/\.[a-z]+$/, '')));
    for (const name of names) {
      if (keep.has(name)) continue;
      const paths = pathsOf(opts.runDir, name);
      const pid = Number.parseInt(await readFile(paths.pid, 'utf8').catch(() => ''), 10);
      if (pid > 0 && (await isOurServer(pid, paths.config))) {
        logger.info('openvpn: stopping leftover server', { process: name, pid });
        await killServer(pid, paths.config);
      }
      await Promise.all([paths.config, paths.pid, paths.socket, join(opts.stateDir, `${name}.log`)].map((f) => rm(f, { force: true })));
    }
  }

  async function ensure(specs: readonly OpenvpnProcessSpec[]): Promise<void> {
    if (closed) throw new Error('the OpenVPN backend is closed');
    const wanted = new Map(specs.map((s) => [s.name, s]));
    if (wanted.size !== specs.length) throw new Error('OpenVPN process names must be unique');
    await mkdir(opts.runDir, { recursive: true, mode: 0o700 });
    await mkdir(opts.stateDir, { recursive: true, mode: 0o700 });

    // Stop first: a changed server gives its port and tun device back before its successor starts.
    const outdated = [...processes.values()].filter((p) => {
      const spec = wanted.get(p.name);
      return !spec || spec.config !== p.spec.config || spec.profileId !== p.spec.profileId;
    });
    await Promise.all(
      outdated.map(async (p) => {
        processes.delete(p.name);
        await p.stop();
        endSessions(p, sessionsOf(p).values());
        logger.info('openvpn: server stopped', { process: p.name });
      }),
    );
    await removeOrphans(new Set([...wanted.keys(), ...processes.keys()]));

    const fresh = specs.filter((s) => !processes.has(s.name)).map((s) => new ServerProcess(s, ctx));
    for (const p of fresh) processes.set(p.name, p);
    const failures = (
      await Promise.all(
        fresh.map((p) =>
          p.start().then(
            () => null,
            (err: Error) => {
              p.retryLater();
              return `${p.name}: ${err.message}`;
            },
          ),
        ),
      )
    ).filter((f) => f !== null);
    if (failures.length) throw new Error(`OpenVPN servers failed to start (retrying in the background):\n${failures.join('\n')}`);
  }

  return {
    ensureProcesses: (specs) => serial(() => ensure(specs)),

    async setAllowed(next) {
      allowed = new Map(next);
      await Promise.all(
        [...processes.values()].map(async (p) => {
          const client = p.client;
          if (!client) return; // enforced by onConnected when the connection is back
          await enforce(p, client).catch((err: Error) => logger.warn('openvpn: could not apply the allowed set', { process: p.name, error: err.message }));
        }),
      );
    },

    async clients() {
      const lists = await Promise.all(
        [...processes.values()].map(async (p): Promise<OpenvpnClient[]> => {
          const client = p.client;
          if (!client) return [];
          try {
            return (await client.status()).filter(hasTunnel).map((c) => ({ process: p.name, profileId: p.spec.profileId, ...c }));
          } catch (err) {
            logger.warn('openvpn: could not read clients', { process: p.name, error: (err as Error).message });
            return [];
          }
        }),
      );
      return lists.flat();
    },

    onEvent(listener) {
      listeners.push(listener);
    },

    close(stopProcesses) {
      return serial(async () => {
        closed = true;
        const all = [...processes.values()];
        processes.clear();
        if (!stopProcesses) {
          for (const p of all) p.detach();
          return;
        }
        await Promise.all(all.map((p) => p.stop()));
        for (const p of all) endSessions(p, sessionsOf(p).values());
      });
    },
  };
}
