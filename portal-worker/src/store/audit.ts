import type { Db } from '../db/types.ts';

export interface AuditContext {
  actorUserId: string | null;
  requestId: string | null;
}

const MAX_JSON = 16_000;

function snapshot(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = JSON.stringify(value);
  // TEXT holds 64 KiB on MySQL; an audit row must never make the real change fail.
  return text.length > MAX_JSON ? JSON.stringify({ truncated: true, head: text.slice(0, MAX_JSON) }) : text;
}

/** An audit row as a statement, so it commits in the same batch as the change it records. */
export function auditInsert(
  db: Db,
  ctx: AuditContext,
  now: number,
  action: string,
  targetType: string,
  targetId: string,
  before: unknown,
  after: unknown,
) {
  return db.kysely.insertInto('audit_log').values({
    at: now,
    actor_user_id: ctx.actorUserId,
    action,
    target_type: targetType,
    target_id: targetId,
    before_json: snapshot(before),
    after_json: snapshot(after),
    request_id: ctx.requestId,
  });
}

export async function listAudit(db: Db, limit = 100) {
  const rows = await db.kysely.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    at: r.at,
    actor: r.actor_user_id,
    action: r.action,
    target: `${r.target_type}:${r.target_id}`,
    before: r.before_json ? (JSON.parse(r.before_json) as unknown) : null,
    after: r.after_json ? (JSON.parse(r.after_json) as unknown) : null,
    request_id: r.request_id,
  }));
}
