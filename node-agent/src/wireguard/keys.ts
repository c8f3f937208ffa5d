import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../backends/types.ts';
import type { Runner } from './run.ts';

/** A WireGuard key: 32 bytes in standard base64 (44 chars, last one '='). */
const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWireguardKey(s: string): boolean {
  return KEY_RE.test(s);
}

// The DER SubjectPublicKeyInfo of an X25519 key is this fixed header, then the 32 key bytes.
const X25519_SPKI_HEADER = Buffer.from('302a300506032b656e032100', 'hex');

/**
 * The public half of a fresh X25519 key pair, in base64 as wg prints it; the private half is
 * dropped. For the fake backend's node key and for tests (a real node's key is `wg genkey` in a
 * file, see below).
 *
 * Both halves are encoded by the key generation itself, so no KeyObject is ever exported: Node
 * 20's `KeyObject.export()` holds the key's mutex while it allocates the result, a garbage
 * collection at that moment can destroy the finished keygen job, and that destructor takes the
 * same mutex. The thread then waits on itself forever, timers included (the node-agent tier froze
 * that way inside `generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' })`).
 */
export function x25519PublicKey(): string {
  const { publicKey } = generateKeyPairSync('x25519', {
    publicKeyEncoding: { type: 'spki', format: 'der' },
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
  });
  const header = publicKey.subarray(0, X25519_SPKI_HEADER.length);
  if (publicKey.length !== X25519_SPKI_HEADER.length + 32 || !header.equals(X25519_SPKI_HEADER)) {
    throw new Error('x25519 key generation returned an unexpected SPKI encoding');
  }
  return publicKey.subarray(X25519_SPKI_HEADER.length).toString('base64');
}

/**
 * The node's private key file: created with `wg genkey` on first use, 0600, never overwritten.
 * The portal pins the node's public key on first registration (docs/eduvpn.md §3.2) and refuses a
 * different one later, so an unreadable or corrupt key is an error, not a reason to make a new one.
 * Returns the path; the key itself stays in the file and only travels by stdin or file path.
 */
export async function ensurePrivateKeyFile(path: string, run: Runner, logger: Logger): Promise<string> {
  const existing = await readKey(path);
  if (existing !== null) {
    const mode = (await stat(path)).mode & 0o777;
    if (mode !== 0o600) {
      logger.warn('wireguard: private key file had loose permissions, tightened to 0600', { path, mode: mode.toString(8) });
      await chmod(path, 0o600);
    }
    return path;
  }
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const key = (await run(['wg', 'genkey'])).trim();
  if (!isWireguardKey(key)) throw new Error('wg genkey produced something that is not a key');
  const tmp = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', 0o600);
  try {
    await fh.writeFile(`${key}\n`);
    await fh.sync();
  } finally {
    await fh.close();
  }
  // Temp file + link instead of rename: still atomic, but it never clobbers a key another
  // process created meanwhile; the node's identity must not change under a running tunnel.
  try {
    await link(tmp, path);
    logger.info('wireguard: generated node private key', { path });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    await unlink(tmp);
  }
  await syncDir(dirname(path));
  if ((await readKey(path)) === null) throw new Error(`wireguard: key file ${path} vanished after creation`);
  return path;
}

export async function publicKeyOfFile(path: string, run: Runner): Promise<string> {
  const priv = await readKey(path);
  if (priv === null) throw new Error(`wireguard: no private key at ${path}`);
  const pub = (await run(['wg', 'pubkey'], { stdin: `${priv}\n` })).trim();
  if (!isWireguardKey(pub)) throw new Error('wg pubkey produced something that is not a key');
  return pub;
}

async function readKey(path: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const key = text.trim();
  if (!isWireguardKey(key)) throw new Error(`wireguard: ${path} does not hold a WireGuard key; refusing to replace it`);
  return key;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
