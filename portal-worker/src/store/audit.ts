import { sql } from 'kysely';
import type { Db } from '../core/db.ts';

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
export function auditInsert(db: Db, ctx: AuditContext, now: number, action: string, targetType: string, targetId: string, before: unknown, after: unknown) {
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

export interface AuditFilter {
  actor?: string | undefined;
  /** Matches actions starting with this text, case-sensitively on both databases. */
  actionPrefix?: string | undefined;
  /** A target id, or `type:id`. */
  target?: string | undefined;
  /** Only entries with a smaller id: the cursor of the next (older) page. */
  before?: number | undefined;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string | null;
  action: string;
  targetType: string;
  targetId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/** One page of the audit log, newest first; `more` says whether older entries match too. */
export async function searchAudit(db: Db, f: AuditFilter, limit = 50): Promise<{ entries: AuditRow[]; more: boolean }> {
  let q = db.kysely.selectFrom('audit_log').selectAll();
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  if (f.actor) q = q.where('actor_user_id', '=', f.actor);
  if (f.actionPrefix) {
    const prefix = f.actionPrefix;
    // Not LIKE: SQLite's LIKE ignores case and both treat % and _ as wildcards.
    q = q.where(sql<string>`substr(action, 1, ${sql.lit([...prefix].length)})`, '=', prefix);
  }
  if (f.target) {
    const target = f.target;
    const colon = target.indexOf(':');
    q = q.where((eb) => eb.or([eb('target_id', '=', target), ...(colon > 0 ? [eb.and([eb('target_type', '=', target.slice(0, colon)), eb('target_id', '=', target.slice(colon + 1))])] : [])]));
  }
  const rows = await q
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute();
  return {
    more: rows.length > limit,
    entries: rows.slice(0, limit).map((r) => ({
      id: Number(r.id),
      at: r.at,
      actor: r.actor_user_id,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      before: r.before_json ? (JSON.parse(r.before_json) as unknown) : null,
      after: r.after_json ? (JSON.parse(r.after_json) as unknown) : null,
      requestId: r.request_id,
    })),
  };
}
