import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../core/db.ts';

/** Statistics for the admin pages, computed from session_stats, connection_log and oauth_authorizations. */

export const DAY_MS = 86_400_000;

export interface StatsFilter {
  profileId?: string | undefined;
  nodeId?: string | undefined;
}

export interface SessionPeak {
  key: string;
  /** Epoch ms of the bucket's start (a multiple of the bucket size). */
  bucket: number;
  peak: number;
}

function filterSql(f: StatsFilter, alias: string): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [];
  if (f.profileId) parts.push(sql`and ${sql.ref(`${alias}.profile_id`)} = ${f.profileId}`);
  if (f.nodeId) parts.push(sql`and ${sql.ref(`${alias}.node_id`)} = ${f.nodeId}`);
  return sql.join(parts, sql` `);
}

/**
 * Concurrent sessions per profile or per node: the reports are summed per minute (over nodes
 * and protocols, or over profiles and protocols), then each bucket keeps its highest minute, so
 * a short peak is not averaged away. Buckets without any report are absent (gaps, not zeros:
 * nodes report zeros too, so a missing minute means nobody reported).
 */
export async function sessionPeaks(db: Db, by: 'profile_id' | 'node_id', from: number, to: number, bucketMs: number, f: StatsFilter = {}): Promise<SessionPeak[]> {
  // The bucket size comes from a fixed table, never from the request: as a literal it keeps the
  // bucket arithmetic integral whatever type a driver binds a JS number as.
  const size = sql.lit(Math.trunc(bucketMs));
  const { rows } = await sql<{ k: string; bucket: number | string; peak: number | string }>`
    select m.k as k, m.minute - (m.minute % ${size}) as bucket, max(m.total) as peak
    from (
      select ${sql.ref(`s.${by}`)} as k, s.minute as minute, sum(s.sessions) as total
      from session_stats s
      where s.minute >= ${from} and s.minute <= ${to} ${filterSql(f, 's')}
      group by ${sql.ref(`s.${by}`)}, s.minute
    ) m
    group by m.k, m.minute - (m.minute % ${size})
    order by k, bucket`.execute(db.kysely);
  return rows.map((r) => ({ key: r.k, bucket: Number(r.bucket), peak: Number(r.peak) }));
}

/** The UTC days (their start, epoch ms) that the span [from, to] touches. */
export function daysBetween(from: number, to: number): number[] {
  const days: number[] = [];
  for (let d = Math.floor(from / DAY_MS) * DAY_MS; d <= to; d += DAY_MS) days.push(d);
  return days;
}

/**
 * Distinct users per UTC day: a connection_log row counts for every day it overlaps (a WireGuard
 * row spans the configuration's life on a node, an OpenVPN row the connection). A row without
 * an end is still open. One scan with a COUNT(DISTINCT CASE …) column per day: D1 refuses a
 * days table built from more than five UNIONed SELECTs, and Vitess's recursive CTEs are young.
 */
export async function uniqueUsersPerDay(db: Db, days: readonly number[], f: StatsFilter = {}): Promise<{ day: number; users: number }[]> {
  if (!days.length) return [];
  const first = days[0] as number;
  const end = (days[days.length - 1] as number) + DAY_MS;
  const overlaps = (from: RawBuilder<unknown>, to: RawBuilder<unknown>) => sql`l.connected_at < ${to} and (l.disconnected_at is null or l.disconnected_at >= ${from})`;
  const columns = sql.join(days.map((d, i) => sql`count(distinct case when ${overlaps(sql.lit(Math.trunc(d)), sql.lit(Math.trunc(d) + DAY_MS))} then l.user_id end) as ${sql.ref(`d${i}`)}`));
  const { rows } = await sql<Record<string, number | string>>`
    select ${columns}
    from connection_log l
    where ${overlaps(sql.lit(Math.trunc(first)), sql.lit(Math.trunc(end)))} ${filterSql(f, 'l')}`.execute(db.kysely);
  const row = rows[0] ?? {};
  return days.map((day, i) => ({ day, users: Number(row[`d${i}`] ?? 0) }));
}

/** Active (unexpired) app authorizations per OAuth client, most used first. */
export async function activeAuthorizationsPerClient(db: Db, now: number): Promise<{ clientId: string; count: number }[]> {
  const rows = await db.kysely
    .selectFrom('oauth_authorizations')
    .select(['client_id', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('expires_at', '>', now)
    .groupBy('client_id')
    .execute();
  return rows.map((r) => ({ clientId: r.client_id, count: Number(r.n) })).sort((a, b) => b.count - a.count || a.clientId.localeCompare(b.clientId));
}
