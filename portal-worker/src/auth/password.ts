import { base64url, fromBase64, timingSafeEqual } from '../core/crypto.ts';

/**
 * PBKDF2-SHA256 at 100,000 iterations: the most that production Workers accept (they reject
 * higher counts; local workerd does not, so a test pins this number). A memory-hard hash
 * (argon2id) costs ~200 ms of CPU here, past the Workers CPU budget.
 * Stored as `pbkdf2-sha256$<iterations>$<salt b64url>$<hash b64url>` so the count can rise later.
 */
export const PBKDF2_ITERATIONS = 100_000;
const KEY_BITS = 256;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array, iterations: number): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password.normalize('NFKC')), 'PBKDF2', false, ['deriveBits']);
  const bits = await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations }, key, KEY_BITS);
  return new Uint8Array(bits);
}

export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const hash = await derive(password, salt, PBKDF2_ITERATIONS);
  return `pbkdf2-sha256$${PBKDF2_ITERATIONS}$${base64url(salt)}$${base64url(hash)}`;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, iter, salt, hash] = stored.split('$');
  const iterations = Number(iter);
  if (scheme !== 'pbkdf2-sha256' || !salt || !hash || !Number.isInteger(iterations) || iterations < 1) return false;
  const actual = await derive(password, fromBase64(salt), iterations);
  return timingSafeEqual(base64url(actual), hash);
}

// A real hash of a random password: verifying against it for unknown users spends the same
// time as for known ones, so response time does not reveal which accounts exist.
let dummy: Promise<string> | undefined;
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(crypto.randomUUID());
  return dummy;
}

/** Local-account password policy: long enough to resist guessing, short enough to hash cheaply. */
export function passwordProblem(password: string): string | null {
  if (password.length < 12) return 'must be at least 12 characters';
  if (password.length > 1024) return 'must be at most 1024 characters';
  return null;
}
