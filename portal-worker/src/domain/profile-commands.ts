import type { Db } from '../db/types.ts';
import { AppError, type FieldError } from '../errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { createProfile, deleteProfile, getProfile, rangesInUse, updateProfile } from '../store/profiles.ts';
import { validateProfile, type ProfileConfig } from './profile.ts';

export type SaveResult = { ok: true; profile: ProfileConfig } | { ok: false; errors: FieldError[] };

// Node-visible changes will go through the node channel's single door (issue: node channel);
// today a profile change only touches the database.

export async function createProfileCommand(db: Db, input: unknown, now: number, audit: AuditContext): Promise<SaveResult> {
  const result = validateProfile(input, await rangesInUse(db, null));
  if (!result.ok) return result;
  await createProfile(db, result.profile, now, audit);
  return result;
}

/** Replaces the whole profile; the id in the path wins and cannot be changed. */
export async function updateProfileCommand(db: Db, id: string, input: unknown, now: number, audit: AuditContext): Promise<SaveResult> {
  const before = await getProfile(db, id);
  if (!before) throw new AppError('not_found', `no profile "${id}"`);
  if (typeof input === 'object' && input !== null && 'id' in input && (input as { id: unknown }).id !== id) {
    return { ok: false, errors: [{ path: 'id', message: 'the id of a profile cannot be changed' }] };
  }
  const result = validateProfile({ ...(input as object), id }, await rangesInUse(db, id));
  if (!result.ok) return result;
  await updateProfile(db, before, result.profile, now, audit);
  return result;
}

export async function deleteProfileCommand(db: Db, id: string, now: number, audit: AuditContext): Promise<void> {
  const before = await getProfile(db, id);
  if (!before) throw new AppError('not_found', `no profile "${id}"`);
  await deleteProfile(db, before, now, audit);
}
