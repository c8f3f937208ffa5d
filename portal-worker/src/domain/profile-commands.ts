import { isUniqueViolation } from '@edgeport/schema';
import type { Db } from '../core/db.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { createProfileStatements, deleteProfileStatements, getProfile, nodesOfProfile, rangesInUse, updateProfileStatements, wireguardOnNodesOf } from '../store/profiles.ts';
import { applyNodeChange, mergeChanges, resyncAll, type NodeNotifier } from './node-door.ts';
import { removalsOf } from '../store/configs.ts';
import { validateProfile, type ProfileConfig } from './profile.ts';

export type SaveResult = { ok: true; profile: ProfileConfig } | { ok: false; errors: FieldError[] };

export async function createProfileCommand(db: Db, input: unknown, now: number, audit: AuditContext): Promise<SaveResult> {
  const result = validateProfile(input, await rangesInUse(db, null));
  if (!result.ok) return result;
  try {
    // No node serves a new profile yet, so there is nobody to tell.
    await db.atomic(createProfileStatements(db, result.profile, now, audit));
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `profile "${result.profile.id}" already exists`);
    throw err;
  }
  return result;
}

/** Replaces the whole profile; the id in the path wins and cannot be changed. */
export async function updateProfileCommand(db: Db, notifier: NodeNotifier, id: string, input: unknown, now: number, audit: AuditContext): Promise<SaveResult> {
  const before = await getProfile(db, id);
  if (!before) throw new AppError('not_found', `no profile "${id}"`);
  if (typeof input === 'object' && input !== null && 'id' in input && (input as { id: unknown }).id !== id) {
    return { ok: false, errors: [{ path: 'id', message: 'the id of a profile cannot be changed' }] };
  }
  const [taken, onNodes] = await Promise.all([rangesInUse(db, id), wireguardOnNodesOf(db, id)]);
  const ports = { neighbours: onNodes.filter((w) => w.profile_id !== id), keptPort: before.wireguard?.port ?? null };
  const result = validateProfile({ ...(input as object), id }, taken, ports);
  if (!result.ok) return result;
  // Ranges, ports and routes change what the node runs: its nodes get a fresh snapshot.
  await applyNodeChange(db, notifier, updateProfileStatements(db, before, result.profile, now, audit), resyncAll(await nodesOfProfile(db, id)));
  return result;
}

export async function deleteProfileCommand(db: Db, notifier: NodeNotifier, id: string, now: number, audit: AuditContext): Promise<void> {
  const before = await getProfile(db, id);
  if (!before) throw new AppError('not_found', `no profile "${id}"`);
  const changes = mergeChanges(await removalsOf(db, 'profile_id', id), resyncAll(await nodesOfProfile(db, id)));
  await applyNodeChange(db, notifier, deleteProfileStatements(db, before, now, audit), changes);
}
