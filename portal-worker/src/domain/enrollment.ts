import type { Db } from '../core/db.ts';
import { randomToken, sha256Hex, timingSafeEqual } from '../core/crypto.ts';
import { AppError } from '../core/errors.ts';
import { auditInsert, type AuditContext } from '../store/audit.ts';
import { findEnrollment, findNodeCredential, findNodeRevocation, redeemEnrollment, revokeNodeStatements, startEnrollmentStatements } from '../store/nodes.ts';

const ENROLLMENT_TTL_MS = 24 * 3_600_000;

/**
 * Makes a one-time enrollment token for a node (shown once to the admin). Making a new one
 * replaces any earlier token; the node's current credential keeps working until it enrolls.
 */
export async function startEnrollment(db: Db, nodeId: string, now: number, audit: AuditContext): Promise<{ token: string; expiresAt: number }> {
  const node = await findNodeRevocation(db, nodeId);
  if (!node) throw new AppError('not_found', `no node "${nodeId}"`);
  if (node.revoked_at !== null) throw new AppError('conflict', `node "${nodeId}" is revoked; create a new node`);
  const token = `ept_${randomToken()}`;
  const expiresAt = now + ENROLLMENT_TTL_MS;
  await db.atomic(startEnrollmentStatements(db, nodeId, await sha256Hex(token), expiresAt, now, audit));
  return { token, expiresAt };
}

/**
 * The agent trades the token for its long-lived credential, once: the conditional update on the
 * token hash is what makes the token single-use across every portal instance.
 */
export async function completeEnrollment(db: Db, nodeId: string, token: string, now: number): Promise<string> {
  const hash = await sha256Hex(token);
  const node = await findEnrollment(db, nodeId);
  const valid = node?.enrollment_hash && timingSafeEqual(node.enrollment_hash, hash) && (node.enrollment_expires_at ?? 0) > now && node.revoked_at === null;
  if (!valid) throw new AppError('unauthenticated', 'unknown, used or expired enrollment token');
  const credential = `epn_${randomToken()}`;
  if (!(await redeemEnrollment(db, nodeId, hash, await sha256Hex(credential), now))) throw new AppError('unauthenticated', 'unknown, used or expired enrollment token');
  await auditInsert(db, { actorUserId: null, requestId: null }, now, 'node.enrolled', 'node', nodeId, null, null).execute();
  return credential;
}

/** The node a credential belongs to, or null (unknown, replaced or revoked): checked on every connection. */
export async function authenticateNode(db: Db, nodeId: string, credential: string): Promise<{ id: string } | null> {
  if (!credential || credential.length > 512) return null;
  const node = await findNodeCredential(db, nodeId);
  if (!node?.credential_hash || node.revoked_at !== null) return null;
  return timingSafeEqual(node.credential_hash, await sha256Hex(credential)) ? { id: node.id } : null;
}

/** Revoking refuses the node from then on; its configurations stay in the database for the log. */
export async function revokeNode(db: Db, nodeId: string, now: number, audit: AuditContext): Promise<void> {
  const node = await findNodeRevocation(db, nodeId);
  if (!node) throw new AppError('not_found', `no node "${nodeId}"`);
  await db.atomic(revokeNodeStatements(db, node, nodeId, now, audit));
}
