/**
 * The OpenVPN part of the agent's event loop: per OpenVPN profile in the desired config, a server
 * key made on the node, a certificate the portal signs for it (asked for with a `csr` while the
 * channel is up, kept on disk so the servers come back without the portal), and the server
 * processes from `serverProcesses` on stable tun numbers. Admission (`setAllowed`) stays with
 * reconcile's `ovpn_allowed` action.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DesiredConfig, NodeMessage, ProfileOnNode } from '@edgeport/schema';
import type { Logger, OpenvpnBackend, OpenvpnProcessSpec } from './backends/types.ts';
import { writeFileAtomic } from './openvpn/process.ts';
import { serverProcesses } from './openvpn/server-config.ts';
import { certificateState, isProfileFileName, keyPathOf, serverIdentity, type CertificateState } from './openvpn/server-identity.ts';
import { assignTuns, type TunRange } from './openvpn/tun-numbers.ts';
import { openvpnEventMessage } from './reports.ts';
import { createRunner, type Runner } from './wireguard/run.ts';

/** An unanswered request is sent again after this long (on a new connection at once). */
export const CSR_RETRY_MS = 60_000;
/** Connect/disconnect events kept while the portal is away; the oldest go first. */
export const MAX_PENDING_EVENTS = 1000;

export type Send = (m: NodeMessage) => boolean;

export interface OpenvpnLoopOptions {
  backend: OpenvpnBackend;
  nodeId: string;
  /** The agent's state directory: keys, certificates and tun numbers go to `<stateDir>/openvpn`. */
  stateDir: string;
  /** The backend's run directory: the configs name the management sockets there. */
  runDir: string;
  logger: Logger;
  /** AES-GCM first in data-ciphers (a CPU with AES instructions), ChaCha20 first otherwise. */
  preferAes: boolean;
  run?: Runner;
  now?: () => number;
}

export interface OpenvpnLoop {
  /** Runs the servers `config` needs with the certificates on disk (profiles without one wait). */
  apply(config: DesiredConfig): Promise<void>;
  /** Sends a `csr` for each profile without a certificate that is good for a while yet. */
  requestCertificates(config: DesiredConfig, send: Send): Promise<void>;
  /** A certificate from the portal, checked against the key and CA; true if a new one was stored. */
  receive(config: DesiredConfig | null, profileId: string, certPem: string): Promise<boolean>;
  /** A new connection: requests sent on the old one may never be answered. */
  connected(): void;
  /** Forwards backend events to the hub; with `send` failing they wait (bounded) for `flush`. */
  forwardEvents(send: Send): void;
  flushEvents(): void;
}

const portCount = (p: ProfileOnNode) => (p.openvpn ? p.openvpn.udp_ports.length + p.openvpn.tcp_ports.length : 0);

/** Whether /proc/cpuinfo lists AES instructions (x86 `flags`, arm64 `Features`). */
export function cpuHasAes(cpuinfo: string): boolean {
  return cpuinfo.split('\n').some((l) => /^(flags|Features)\s*:/.test(l) && /\saes(\s|$)/.test(l));
}

export function openvpnLoop(o: OpenvpnLoopOptions): OpenvpnLoop {
  const { logger, backend } = o;
  const now = o.now ?? Date.now;
  const dir = join(o.stateDir, 'openvpn');
  const tunFile = join(dir, 'tun.json');
  const identity = serverIdentity({ dir, nodeId: o.nodeId, run: o.run ?? createRunner(), logger });
  const requested = new Map<string, number>();
  // What each profile waits for, logged when it changes rather than on every periodic pass.
  const waiting = new Map<string, string>();
  const pending: NodeMessage[] = [];
  let dropped = 0;
  let send: Send | null = null;

  // In order, oldest first; stops at the first one the channel cannot take.
  const flush = () => {
    while (pending.length && send?.(pending[0] as NodeMessage)) pending.shift();
    if (!pending.length) dropped = 0;
  };

  /** The profiles to serve, by id (the same config always gives the same order). */
  function profilesOf(config: DesiredConfig): ProfileOnNode[] {
    const out: ProfileOnNode[] = [];
    for (const p of config.profiles) {
      if (!p.openvpn || portCount(p) === 0) continue;
      if (!isProfileFileName(p.id)) {
        logger.error('openvpn: profile id not usable on this node; not served', { profile: p.id });
        continue;
      }
      out.push(p);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async function stateOf(profileId: string, caPem: string): Promise<CertificateState & { certPem: string | null }> {
    await identity.ensureKey(profileId);
    const certPem = await identity.stored(profileId);
    if (certPem === null) return { usable: false, reason: 'no certificate yet', certPem };
    return { ...certificateState(certPem, await identity.key(profileId), caPem, profileId, now()), certPem };
  }

  const note = (profileId: string, what: string | null) => {
    if ((waiting.get(profileId) ?? null) === what) return;
    if (what === null) waiting.delete(profileId);
    else {
      waiting.set(profileId, what);
      logger.warn('openvpn: profile not served until it has a server certificate', { profile: profileId, reason: what });
    }
  };

  /** Persisted so a restarted agent writes the same config text and adopts the running servers. */
  async function tunsFor(profiles: readonly ProfileOnNode[]): Promise<Map<string, TunRange>> {
    const saved = new Map<string, TunRange>();
    try {
      const raw = JSON.parse(await readFile(tunFile, 'utf8')) as Record<string, Partial<TunRange>>;
      for (const [id, r] of Object.entries(raw)) {
        if (Number.isInteger(r.first) && Number.isInteger(r.count) && (r.first as number) >= 0) saved.set(id, { first: r.first as number, count: r.count as number });
      }
    } catch {
      // None yet, or unreadable: numbers are assigned afresh (lowest free first, as before).
    }
    const next = assignTuns(
      saved,
      profiles.map((p) => [p.id, portCount(p)] as const),
    );
    const text = `${JSON.stringify(Object.fromEntries(next))}\n`;
    if (text !== `${JSON.stringify(Object.fromEntries(saved))}\n`) {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await writeFileAtomic(tunFile, text);
    }
    return next;
  }

  return {
    async apply(config) {
      const profiles = profilesOf(config);
      const specs: OpenvpnProcessSpec[] = [];
      if (profiles.length && !config.ca_cert) {
        for (const p of profiles) note(p.id, 'the portal sent no CA');
      } else if (profiles.length) {
        const tuns = await tunsFor(profiles);
        for (const p of profiles) {
          try {
            const s = await stateOf(p.id, config.ca_cert as string);
            if (!s.usable || s.certPem === null) {
              note(p.id, s.usable ? 'no certificate yet' : s.reason);
              continue;
            }
            note(p.id, null);
            specs.push(
              ...serverProcesses(p, {
                firstTun: (tuns.get(p.id) as TunRange).first,
                caCert: config.ca_cert as string,
                serverCert: s.certPem,
                serverKeyPath: keyPathOf(dir, p.id),
                runDir: o.runDir,
                preferAes: o.preferAes,
              }),
            );
          } catch (err) {
            logger.error('openvpn: profile not served', { profile: p.id, error: String(err) });
          }
        }
      }
      for (const id of [...waiting.keys()]) if (!profiles.some((p) => p.id === id)) waiting.delete(id);
      await backend.ensureProcesses(specs);
    },

    async requestCertificates(config, sendNow) {
      if (!config.ca_cert) return;
      for (const p of profilesOf(config)) {
        const sentAt = requested.get(p.id);
        if (sentAt !== undefined && now() - sentAt < CSR_RETRY_MS) continue;
        try {
          const s = await stateOf(p.id, config.ca_cert);
          if (s.usable && !s.renew) continue;
          const csr = await identity.request(p.id);
          if (!sendNow({ type: 'csr', profile_id: p.id, csr })) return;
          requested.set(p.id, now());
          logger.info('openvpn: asked the portal for a server certificate', { profile: p.id, why: s.usable ? 'renewal' : s.reason });
        } catch (err) {
          logger.error('openvpn: could not make a certificate request', { profile: p.id, error: String(err) });
        }
      }
    },

    async receive(config, profileId, certPem) {
      const served = config?.ca_cert && profilesOf(config).some((p) => p.id === profileId);
      if (!config?.ca_cert || !served) {
        logger.warn('openvpn: certificate for a profile this node does not serve with OpenVPN ignored', { profile: profileId });
        return false;
      }
      const s = certificateState(certPem, await identity.key(profileId), config.ca_cert, profileId, now());
      if (!s.usable) {
        // The request stays outstanding: asked again after CSR_RETRY_MS, not in a tight loop.
        logger.error('openvpn: certificate from the portal does not fit; ignored', { profile: profileId, reason: s.reason });
        return false;
      }
      requested.delete(profileId);
      const stored = await identity.store(profileId, certPem);
      if (stored) logger.info('openvpn: server certificate stored', { profile: profileId, not_after: new Date(s.notAfter).toISOString() });
      return stored;
    },

    connected() {
      requested.clear();
    },

    forwardEvents(s) {
      send = s;
      backend.onEvent((e) => {
        pending.push(openvpnEventMessage(e));
        if (pending.length > MAX_PENDING_EVENTS) {
          pending.shift();
          if (dropped++ === 0) logger.warn('openvpn: portal away too long, oldest connection events dropped', { kept: MAX_PENDING_EVENTS });
        }
        flush();
      });
    },

    flushEvents: flush,
  };
}
