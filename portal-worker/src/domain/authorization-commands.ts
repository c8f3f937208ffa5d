import type { Db } from '../db/types.ts';
import { AppError } from '../errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { deleteAuthorization } from '../store/oauth.ts';

/** A user revokes one of their own app authorizations; its tokens stop working on the next call. */
export async function revokeAuthorization(db: Db, userId: string, authorizationId: string, now: number, audit: AuditContext): Promise<void> {
  const row = await db.kysely.selectFrom('oauth_authorizations').select(['id', 'user_id']).where('id', '=', authorizationId).executeTakeFirst();
  // Someone else's authorization is answered like a missing one: ids are not to be probed.
  if (!row || row.user_id !== userId) throw new AppError('not_found', 'no such authorization');
  await deleteAuthorization(db, row.id, now, 'oauth.revoke', audit);
}
