import type { Db } from '../core/db.ts';
import { AppError } from '../core/errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { removalsOf } from '../store/configs.ts';
import { deleteAuthorizationStatements, findAuthorizationOwner } from '../store/oauth.ts';
import { applyNodeChange, type NodeNotifier } from './node-door.ts';

/** Ends an app authorization: its configs leave their nodes and its tokens stop on the next call. */
export async function endAuthorization(db: Db, notifier: NodeNotifier, id: string, now: number, action: string, audit: AuditContext): Promise<void> {
  await applyNodeChange(db, notifier, deleteAuthorizationStatements(db, id, now, action, audit), await removalsOf(db, 'authorization_id', id));
}

/** A user revokes one of their own app authorizations. */
export async function revokeAuthorization(db: Db, notifier: NodeNotifier, userId: string, authorizationId: string, now: number, audit: AuditContext): Promise<void> {
  const row = await findAuthorizationOwner(db, authorizationId);
  // Someone else's authorization is answered like a missing one: ids are not to be probed.
  if (!row || row.user_id !== userId) throw new AppError('not_found', 'no such authorization');
  await endAuthorization(db, notifier, row.id, now, 'oauth.revoke', audit);
}
