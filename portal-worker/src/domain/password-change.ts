/**
 * A user changes the password of their local account (upstream's /passwd). The current password
 * is checked like a login, so guessing it here is throttled and counted like guessing at /login.
 */
import { sha256Hex } from '../core/crypto.ts';
import type { LoginOutcome } from '../auth/login.ts';
import { hashPassword, passwordProblem } from '../auth/password.ts';
import type { Db } from '../core/db.ts';
import type { AuditContext } from '../store/audit.ts';
import { changePasswordStatements } from '../store/users.ts';

export type PasswordProblem = 'missing' | 'mismatch' | 'too_short' | 'too_long' | 'wrong_current';

export type PasswordChangeOutcome = { kind: 'ok' } | { kind: 'invalid'; problem: PasswordProblem } | { kind: 'throttled'; retryAfterMs: number };

export interface PasswordChangeInput {
  current: string;
  next: string;
  repeat: string;
}

export interface PasswordChangeDeps {
  db: Db;
  now: number;
  audit: AuditContext;
  /** The login check (auth/login.ts passwordLogin) for this user, throttle included. */
  checkCurrent: (password: string) => Promise<LoginOutcome>;
}

/**
 * On success the new hash is stored and every other browser session of the user ends in the
 * same batch (a stolen session must not outlive the password change); `keepSession` stays.
 */
export async function changePasswordCommand(deps: PasswordChangeDeps, userId: string, keepSession: string, input: PasswordChangeInput): Promise<PasswordChangeOutcome> {
  if (!input.current || !input.next || !input.repeat) return { kind: 'invalid', problem: 'missing' };
  // Cheap checks first: a typo in the new password must not cost a throttled login attempt.
  if (input.next !== input.repeat) return { kind: 'invalid', problem: 'mismatch' };
  if (passwordProblem(input.next)) return { kind: 'invalid', problem: input.next.length > 1024 ? 'too_long' : 'too_short' };
  if (input.current.length > 1024) return { kind: 'invalid', problem: 'wrong_current' };
  const check = await deps.checkCurrent(input.current);
  if (check.kind === 'throttled') return { kind: 'throttled', retryAfterMs: check.retryAfterMs };
  if (check.kind !== 'ok') return { kind: 'invalid', problem: 'wrong_current' };

  const { db, now } = deps;
  const [hash, keepHash] = await Promise.all([hashPassword(input.next), sha256Hex(keepSession)]);
  await db.atomic(changePasswordStatements(db, userId, hash, keepHash, now, deps.audit));
  return { kind: 'ok' };
}
