import type { Bindings } from '../bindings.ts';
import type { Config } from '../config/config.ts';
import type { Db } from '../core/db.ts';
import { dummyHash, verifyPassword } from './password.ts';
import { findLocalLogin } from '../store/users.ts';

export type LoginOutcome = { kind: 'ok'; userId: string } | { kind: 'bad_credentials' } | { kind: 'disabled' } | { kind: 'throttled'; retryAfterMs: number };

/**
 * Password login with throttling per account and per client address. Both counters are
 * checked before the password, so a throttled guess learns nothing even when it is right.
 */
export async function passwordLogin(env: Bindings, config: Config, db: Db, userId: string, password: string, clientIp: string): Promise<LoginOutcome> {
  const { maxFailuresAccount, maxFailuresIp, windowMs } = config.login;
  const account = env.THROTTLE.get(env.THROTTLE.idFromName(`acct:${userId}`));
  const address = env.THROTTLE.get(env.THROTTLE.idFromName(`ip:${clientIp}`));
  const [a, b] = await Promise.all([account.check(maxFailuresAccount, windowMs), address.check(maxFailuresIp, windowMs)]);
  if (a.blocked || b.blocked) return { kind: 'throttled', retryAfterMs: Math.max(a.retryAfterMs, b.retryAfterMs) };

  const row = await findLocalLogin(db, userId);
  const valid = await verifyPassword(password, row?.password_hash ?? (await dummyHash()));
  if (!row || !valid) {
    await Promise.all([account.fail(maxFailuresAccount, windowMs), address.fail(maxFailuresIp, windowMs)]);
    return { kind: 'bad_credentials' };
  }
  if (row.is_disabled === 1) return { kind: 'disabled' };
  await account.reset();
  return { kind: 'ok', userId: row.id };
}

/** Cloudflare sets CF-Connecting-IP at the edge and overwrites any value a client sends. */
export function clientIp(header: string | undefined): string {
  return header && header.length <= 64 ? header : 'unknown';
}
