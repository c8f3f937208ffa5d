import type { Context } from 'hono';
import type { Db } from '../core/db.ts';
import { alignPeaks, optionalId, parsePeriod, PERIODS, type AppUsage, type KeyedSeries, type StatsQuery, type Timeline } from '../domain/stats-period.ts';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import type { T } from '../i18n/index.ts';
import { findClient, listRegisteredClients } from '../domain/oauth-clients.ts';
import { activeAuthorizationsPerClient, daysBetween, sessionPeaks, uniqueUsersPerDay } from '../store/stats.ts';

// What the statistics page and its CSV export show, loaded the same way for both.

/** The page's and the export's query; a client mistake is a 400, never a 500. */
export function statsQuery(c: Context<AppEnv>, t: T): StatsQuery {
  const raw = c.req.query('period');
  const period = parsePeriod(raw);
  if (!period) throw new AppError('bad_request', t('admin-stats.badPeriod', { value: (raw ?? '').slice(0, 40) }));
  const profileId = optionalId(c.req.query('profile'));
  if (profileId === null) throw new AppError('bad_request', t('admin-stats.badFilter', { field: t('admin-stats.profile') }));
  const nodeId = optionalId(c.req.query('node'));
  if (nodeId === null) throw new AppError('bad_request', t('admin-stats.badFilter', { field: t('admin-stats.node') }));
  return { period, profileId, nodeId };
}

/** The same filters as query parameters, for links (the CSV exports) that keep them. */
export function statsParams(q: StatsQuery): URLSearchParams {
  const p = new URLSearchParams({ period: q.period });
  if (q.profileId) p.set('profile', q.profileId);
  if (q.nodeId) p.set('node', q.nodeId);
  return p;
}

export async function sessionSeries(db: Db, by: 'profile_id' | 'node_id', q: StatsQuery, tl: Timeline): Promise<KeyedSeries[]> {
  return alignPeaks(await sessionPeaks(db, by, tl.from, tl.to, tl.bucket, q), tl);
}

export function usersPerDay(db: Db, q: StatsQuery, now: number) {
  return uniqueUsersPerDay(db, daysBetween(now - PERIODS[q.period].span, now), q);
}

/** Active authorizations per client, named as the apps and registered clients call themselves. */
export async function appUsage(db: Db, now: number): Promise<AppUsage[]> {
  const [counts, registered] = await Promise.all([activeAuthorizationsPerClient(db, now), listRegisteredClients(db)]);
  const names = new Map(registered.map((r) => [r.id, r.name]));
  return Promise.all(counts.map(async ({ clientId, count }) => ({ clientId, count, name: names.get(clientId) ?? (await findClient(db, clientId))?.name ?? clientId })));
}
