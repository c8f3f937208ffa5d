import { Hono } from 'hono';
import type { Db } from '../core/db.ts';
import { parseCsvKind, timeline, topApps, type CsvKind, type StatsQuery } from '../domain/stats-period.ts';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { listNodes } from '../store/nodes.ts';
import { listProfiles } from '../store/profiles.ts';
import { appsCsv, sessionsCsv, usersCsv } from '../views/admin-stats-csv.ts';
import { StatsPage } from '../views/admin-stats.tsx';
import { adminPage } from './admin-context.ts';
import { adminAudit } from './admin-stats-audit.tsx';
import { adminLog } from './admin-stats-log.tsx';
import { appUsage, sessionSeries, statsParams, statsQuery, usersPerDay } from './admin-stats-data.ts';

/** Statistics (/admin/stats and its CSV export), the connection log search and the audit log. */
export const adminStats = new Hono<AppEnv>();

adminStats.get('/stats', async (c) => {
  const page = await adminPage(c);
  const q = statsQuery(c, page.t);
  const db = c.var.db;
  const now = Date.now();
  const tl = timeline(q.period, now);
  const [byProfile, byNode, users, apps, profiles, nodes] = await Promise.all([
    sessionSeries(db, 'profile_id', q, tl),
    sessionSeries(db, 'node_id', q, tl),
    usersPerDay(db, q, now),
    appUsage(db, now),
    listProfiles(db),
    listNodes(db),
  ]);
  return c.html(
    <StatsPage
      page={page}
      query={q}
      timeline={tl}
      byProfile={byProfile}
      byNode={byNode}
      users={users}
      apps={topApps(apps)}
      profiles={profiles.map((p) => ({ id: p.id, name: p.display_name }))}
      nodes={nodes.map((n) => ({ id: n.id, name: n.name }))}
      csvParams={statsParams(q)}
    />,
  );
});

adminStats.get('/stats.csv', async (c) => {
  const page = await adminPage(c);
  const q = statsQuery(c, page.t);
  const kind = parseCsvKind(c.req.query('kind'));
  if (!kind) throw new AppError('bad_request', page.t('admin-stats.csv.badKind', { value: (c.req.query('kind') ?? '').slice(0, 40) }));
  return c.body(await csvBody(c.var.db, kind, q, Date.now()), 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="edgeport-${kind}-${q.period}.csv"`,
    'Cache-Control': 'no-store',
  });
});

async function csvBody(db: Db, kind: CsvKind, q: StatsQuery, now: number): Promise<string> {
  switch (kind) {
    case 'sessions': {
      const tl = timeline(q.period, now);
      return sessionsCsv(await sessionSeries(db, 'profile_id', q, tl), tl);
    }
    case 'users':
      return usersCsv(await usersPerDay(db, q, now));
    case 'apps':
      return appsCsv(await appUsage(db, now));
  }
}

adminStats.route('/log', adminLog);
adminStats.route('/audit', adminAudit);
