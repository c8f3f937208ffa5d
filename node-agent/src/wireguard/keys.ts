import { randomBytes } from 'node:crypto';
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../backends/types.ts';
import type { Runner } from './run.ts';

/** A WireGuard key: 32 bytes in standard base64 (44 chars, last one '='). */
const KEY_RE = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

export function isWireguardKey(s: string): boolean {
  return KEY_RE.test(s);
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
