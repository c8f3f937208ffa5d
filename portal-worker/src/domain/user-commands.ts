import { z } from 'zod';
import { hashPassword, passwordProblem } from '../auth/password.ts';
import type { Db } from '../core/db.ts';
import type { FieldError } from '../core/errors.ts';
import { fieldErrors } from './validation.ts';
import { auditInsert, type AuditContext } from '../store/audit.ts';
import { removalsOf } from '../store/configs.ts';
import { deleteConfigStatements, findConfig, removalOf, type VpnProtocol } from '../store/live-sessions.ts';
import { createLocalUser, deleteUserStatements, getUser, setUserDisabledStatements } from '../store/users.ts';
import { applyNodeChange, type NodeNotifier } from './node-door.ts';

/** Local user names are compared lower-case, so "Alice" and "alice" are one account. */
export function normalizeUserId(raw: string): string {
  return raw.trim().toLowerCase();
}

const NewUserBody = z
  .object({
    id: z
      .string()
      .transform(normalizeUserId)
      .pipe(z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,127}$/, 'letters, digits, ".", "_", "@" and "-", at most 128')),
    display_name: z.string().trim().min(1).max(255).nullable().default(null),
    password: z.string(),
    is_admin: z.boolean().default(false),
    permissions: z.array(z.string().trim().min(1).max(255)).max(100).default([]),
  })
  .strict();

export type CreateUserResult = { ok: true; id: string } | { ok: false; errors: FieldError[] };

export async function createLocalUserCommand(db: Db, input: unknown, now: number, audit: AuditContext): Promise<CreateUserResult> {
  const parsed = NewUserBody.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors(parsed.error) };
  }
  const u = parsed.data;
  const problem = passwordProblem(u.password);
  if (problem) return { ok: false, errors: [{ path: 'password', message: problem }] };
  await createLocalUser(db, { id: u.id, displayName: u.display_name, passwordHash: await hashPassword(u.password), isAdmin: u.is_admin, permissions: u.permissions }, now, audit);
  return { ok: true, id: u.id };
}

/** Upstream: an administrator cannot manage their own account (so no one locks out the last admin by accident). */
export type UserActionResult = { ok: true } | { ok: false; reason: 'not_found' | 'self' };

/** Disables or enables a user, for the admin page and the admin API alike; the nodes drop a disabled user's configs. */
export async function setUserDisabledCommand(db: Db, notifier: NodeNotifier, userId: string, disabled: boolean, now: number, audit: AuditContext): Promise<UserActionResult> {
  if (audit.actorUserId === userId) return { ok: false, reason: 'self' };
  const before = await getUser(db, userId);
  if (!before) return { ok: false, reason: 'not_found' };
  const removals = disabled ? await removalsOf(db, 'user_id', userId) : new Map();
  await applyNodeChange(db, notifier, setUserDisabledStatements(db, before, disabled, now, audit), removals);
  return { ok: true };
}

/** Deletes the user and all they hold except the logs; their configurations leave the nodes. */
export async function deleteUserCommand(db: Db, notifier: NodeNotifier, userId: string, now: number, audit: AuditContext): Promise<UserActionResult> {
  if (audit.actorUserId === userId) return { ok: false, reason: 'self' };
  const before = await getUser(db, userId);
  if (!before) return { ok: false, reason: 'not_found' };
  await applyNodeChange(db, notifier, deleteUserStatements(db, before, now, audit), await removalsOf(db, 'user_id', userId));
  return { ok: true };
}

/**
 * Ends one configuration from the connections page: the node removes the peer or halts the
 * OpenVPN client. The user keeps their account and app authorizations (an app may connect again).
 */
export async function killConfigCommand(db: Db, notifier: NodeNotifier, protocol: VpnProtocol, key: string, now: number, audit: AuditContext): Promise<{ ok: boolean }> {
  const config = await findConfig(db, protocol, key);
  if (!config) return { ok: false };
  const before = { protocol, user_id: config.userId, profile_id: config.profileId, node_id: config.nodeId, display_name: config.displayName, ip_four: config.ipFour, ip_six: config.ipSix };
  await applyNodeChange(
    db,
    notifier,
    [...deleteConfigStatements(db, config, now), auditInsert(db, audit, now, 'connection.kill', protocol === 'wireguard' ? 'wg_peer' : 'certificate', key, before, null)],
    new Map([[config.nodeId, [removalOf(config)]]]),
  );
  return { ok: true };
}
