/**
 * The node's OpenVPN server identity per profile: a private key made on the node (0600, never
 * sent anywhere), a certificate request for it, and the certificate the portal signed (docs/eduvpn.md
 * §2.3: CN = the node's host name, OU = the profile). Certificates are kept on disk so the
 * servers come back after a restart without the portal.
 */
import { createPrivateKey, randomBytes, X509Certificate, type KeyObject } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../backends/types.ts';
import type { Runner } from '../wireguard/run.ts';

/** Profile ids the portal allows (portal-worker domain/profile.ts); anything else never becomes a file name. */
const PROFILE_ID = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export const isProfileFileName = (id: string) => PROFILE_ID.test(id);

export const keyPathOf = (dir: string, profileId: string) => join(dir, `${profileId}.key`);
export const certPathOf = (dir: string, profileId: string) => join(dir, `${profileId}.crt`);

export type CertificateState =
  | { usable: false; reason: string }
  /** `renew`: past two thirds of its life; still served, but a new one is asked for. */
  | { usable: true; renew: boolean; notAfter: number };

const subjectField = (subject: string, field: string): string[] =>
  subject
    .split('\n')
    .filter((l) => l.startsWith(`${field}=`))
    .map((l) => l.slice(field.length + 1));

/**
 * Whether `certPem` can serve `profileId` with `key` under the CA `caPem` at `now`: it must be
 * for this very key (a certificate for another key would make OpenVPN refuse to start), signed by
 * the CA the clients trust (a CA rotation invalidates it), name the profile in its OU, and be
 * within its validity.
 */
export function certificateState(certPem: string, key: KeyObject, caPem: string, profileId: string, now: number): CertificateState {
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    return { usable: false, reason: 'not a certificate' };
  }
  try {
    ca = new X509Certificate(caPem);
  } catch {
    return { usable: false, reason: 'the CA from the portal is not a certificate' };
  }
  if (!cert.checkPrivateKey(key)) return { usable: false, reason: 'issued for another key' };
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return { usable: false, reason: 'not signed by the current CA' };
  if (!subjectField(cert.subject, 'OU').includes(profileId)) return { usable: false, reason: `not issued for profile ${profileId}` };
  const notBefore = Date.parse(cert.validFrom);
  const notAfter = Date.parse(cert.validTo);
  if (!Number.isFinite(notBefore) || !Number.isFinite(notAfter)) return { usable: false, reason: 'unreadable validity' };
  if (now < notBefore) return { usable: false, reason: 'not valid yet' };
  if (now >= notAfter) return { usable: false, reason: 'expired' };
  return { usable: true, renew: now >= notBefore + ((notAfter - notBefore) * 2) / 3, notAfter };
}

/** `-subj` syntax: `/` and `+` separate names and `\` escapes; the ids allowed here have none, but a CSR is never built from a broken string. */
const subjValue = (v: string) => v.replace(/[\\/+=]/g, (c) => `\\${c}`);

export interface ServerIdentity {
  /** The profile's key (created on first use); returns its path, the only place the key lives. */
  ensureKey(profileId: string): Promise<string>;
  key(profileId: string): Promise<KeyObject>;
  /** A PKCS#10 request (PEM) for the profile's key; the portal decides the subject it signs. */
  request(profileId: string): Promise<string>;
  stored(profileId: string): Promise<string | null>;
  /** Stores a certificate (0644, atomically); false if it was already the stored one. */
  store(profileId: string, certPem: string): Promise<boolean>;
}

export function serverIdentity(opts: { dir: string; nodeId: string; run: Runner; logger: Logger }): ServerIdentity {
  const { dir, run, logger } = opts;
  const checked = (profileId: string) => {
    if (!isProfileFileName(profileId)) throw new Error(`openvpn: profile id "${profileId}" is not usable as a file name`);
    return profileId;
  };

  async function ensureKey(profileId: string): Promise<string> {
    const path = keyPathOf(dir, checked(profileId));
    const existing = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
    if (existing !== null) {
      // A corrupt key is an error, not a reason to make another: the running servers use this one.
      createPrivateKey(existing);
      const mode = (await stat(path)).mode & 0o777;
      if (mode !== 0o600) {
        logger.warn('openvpn: server key file had loose permissions, tightened to 0600', { path, mode: mode.toString(8) });
        await chmod(path, 0o600);
      }
      return path;
    }
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // openssl writes to our pipe, never to a file with its own idea of permissions.
    const pem = await run(['openssl', 'genpkey', '-algorithm', 'ed25519']);
    if (!pem.startsWith('-----BEGIN PRIVATE KEY-----')) throw new Error('openssl genpkey produced something that is not a key');
    const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    try {
      await fh.writeFile(pem);
      await fh.sync();
    } finally {
      await fh.close();
    }
    // link, not rename: atomic, and never replaces a key another process made meanwhile.
    try {
      await link(tmp, path);
      logger.info('openvpn: generated server key', { profile: profileId, path });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await unlink(tmp);
    }
    return path;
  }

  return {
    ensureKey,

    async key(profileId) {
      return createPrivateKey(await readFile(await ensureKey(profileId), 'utf8'));
    },

    async request(profileId) {
      const keyPath = await ensureKey(profileId);
      const csr = await run(['openssl', 'req', '-new', '-key', keyPath, '-subj', `/CN=${subjValue(opts.nodeId)}/OU=${subjValue(profileId)}`]);
      if (!csr.includes('-----BEGIN CERTIFICATE REQUEST-----')) throw new Error('openssl req produced no certificate request');
      return csr;
    },

    async stored(profileId) {
      return readFile(certPathOf(dir, checked(profileId)), 'utf8').catch((e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') return null;
        throw e;
      });
    },

    async store(profileId, certPem) {
      const path = certPathOf(dir, checked(profileId));
      const text = certPem.endsWith('\n') ? certPem : `${certPem}\n`;
      if ((await readFile(path, 'utf8').catch(() => null)) === text) return false;
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
      try {
        const fh = await open(tmp, 'wx', 0o644);
        try {
          await fh.chmod(0o644); // whatever the umask: a certificate is public
          await fh.writeFile(text);
          await fh.sync();
        } finally {
          await fh.close();
        }
        await rename(tmp, path);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      return true;
    },
  };
}
