import { CSV_KINDS, PERIOD_KEYS, PERIODS, TOP_APPS, type AppUsage, type KeyedSeries, type Period, type StatsQuery, type Timeline } from '../domain/stats-period.ts';
import { formatTime, type MessageKey } from '../i18n/index.ts';
import { BarTable, LineChart, seriesPeak, type ChartSeries } from './chart.tsx';
import { Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export interface StatsPageProps {
  page: UserPageContext;
  query: StatsQuery;
  timeline: Timeline;
  byProfile: KeyedSeries[];
  byNode: KeyedSeries[];
  users: { day: number; users: number }[];
  apps: { top: AppUsage[]; other: { apps: number; count: number } | null };
  profiles: { id: string; name: string }[];
  nodes: { id: string; name: string }[];
  csvParams: URLSearchParams;
}

const PERIOD_NAMES: Record<Period, MessageKey> = { '24h': 'admin-stats.period.24h', '7d': 'admin-stats.period.7d', '30d': 'admin-stats.period.30d' };
const BUCKET_NAMES: Record<Period, MessageKey> = { '24h': 'admin-stats.bucket.5m', '7d': 'admin-stats.bucket.1h', '30d': 'admin-stats.bucket.6h' };

const label = (id: string, name: string | undefined) => (name && name !== id ? `${name} (${id})` : id);

function named(series: KeyedSeries[], names: { id: string; name: string }[]): ChartSeries[] {
  const byId = new Map(names.map((n) => [n.id, n.name]));
  return series.map((s) => ({ ...s, label: label(s.key, byId.get(s.key)) }));
}

/** A filter select; a value not (or no longer) in the list, e.g. a deleted profile, still round-trips. */
function FilterSelect(p: { page: UserPageContext; name: string; text: string; value: string | undefined; options: { id: string; name: string }[] }) {
  const options = p.value && !p.options.some((o) => o.id === p.value) ? [...p.options, { id: p.value, name: p.value }] : p.options;
  return (
    <label>
      {p.text}
      <select name={p.name} id={`stats-${p.name}`}>
        <option value="">{p.page.t('admin-stats.all')}</option>
        {options.map((o) => (
          <option value={o.id} selected={o.id === p.value}>
            {label(o.id, o.name)}
          </option>
        ))}
      </select>
    </label>
  );
}

function Filters(p: StatsPageProps) {
  const { t } = p.page;
  return (
    <form method="get" action="/admin/stats" class="toolbar" aria-label={t('admin-stats.filters')}>
      <label>
        {t('admin-stats.period')}
        <select name="period" id="stats-period">
          {PERIOD_KEYS.map((k) => (
            <option value={k} selected={k === p.query.period}>
              {t(PERIOD_NAMES[k])}
            </option>
          ))}
        </select>
      </label>
      <FilterSelect page={p.page} name="profile" text={t('admin-stats.profile')} value={p.query.profileId} options={p.profiles} />
      <FilterSelect page={p.page} name="node" text={t('admin-stats.node')} value={p.query.nodeId} options={p.nodes} />
      <button type="submit">{t('admin-stats.show')}</button>
    </form>
  );
}

function SessionsChart(p: {
  page: UserPageContext;
  id: string;
  heading: string;
  desc: 'admin-stats.sessions.desc' | 'admin-stats.nodes.desc';
  series: ChartSeries[];
  query: StatsQuery;
  timeline: Timeline;
}) {
  const { t } = p.page;
  const spec = PERIODS[p.query.period];
  const range = t('admin-stats.range', { from: formatTime(p.timeline.from), to: formatTime(p.timeline.to) });
  const peak = Math.max(0, ...p.series.map((s) => seriesPeak(s) ?? 0));
  const short = p.query.period === '24h';
  return (
    <section id={p.id} aria-labelledby={`${p.id}-heading`}>
      <h2 id={`${p.id}-heading`}>{p.heading}</h2>
      <LineChart
        id={`${p.id}-svg`}
        title={p.heading}
        desc={t(p.desc, { bucket: t(BUCKET_NAMES[p.query.period]), range, peak })}
        times={p.timeline.times}
        series={p.series}
        xTickEvery={spec.tick}
        formatTick={(ms) => new Date(ms).toISOString().slice(short ? 11 : 5, short ? 16 : 10)}
        formatRow={formatTime}
        labels={{
          table: t('admin-stats.chart.table'),
          time: t('admin-stats.chart.time'),
          missing: t('admin-stats.chart.missing'),
          empty: t('admin-stats.chart.empty'),
          peak: (value) => t('admin-stats.chart.peak', { value }),
        }}
      />
    </section>
  );
}

function Maxima(p: { page: UserPageContext; series: ChartSeries[]; timeline: Timeline }) {
  const { t } = p.page;
  const rows = p.series.map((s) => {
    const peak = seriesPeak(s) ?? 0;
    return { s, peak, at: p.timeline.times[s.values.indexOf(peak)] };
  });
  return (
    <section id="max-sessions" aria-labelledby="max-sessions-heading">
      <h2 id="max-sessions-heading">{t('admin-stats.max.heading')}</h2>
      {rows.length ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin-stats.max.profile')}</th>
                <th scope="col" class="num">
                  {t('admin-stats.max.value')}
                </th>
                <th scope="col">{t('admin-stats.max.at')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr data-profile={r.s.key}>
                  <th scope="row">{r.s.label}</th>
                  <td class="num">{String(r.peak)}</td>
                  <td>{formatTime(r.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">{t('admin-stats.chart.empty')}</p>
      )}
    </section>
  );
}

export function StatsPage(p: StatsPageProps) {
  const { t } = p.page;
  const byProfile = named(p.byProfile, p.profiles);
  const bucket = t(BUCKET_NAMES[p.query.period]);
  const { top, other } = p.apps;
  const appRows = [
    ...top.map((a) => ({ key: a.clientId, label: <span title={a.clientId}>{a.name}</span>, value: a.count })),
    ...(other ? [{ key: 'other', label: t('admin-stats.apps.other', { count: other.apps }), value: other.count }] : []),
  ];
  return (
    <Layout page={p.page} title={t('admin-stats.title')} wide>
      <h1>{t('admin-stats.title')}</h1>
      <Filters {...p} />
      <p class="muted">{t('admin-stats.gaps', { bucket })}</p>
      <SessionsChart page={p.page} id="sessions-chart" heading={t('admin-stats.sessions.heading')} desc="admin-stats.sessions.desc" series={byProfile} query={p.query} timeline={p.timeline} />
      <Maxima page={p.page} series={byProfile} timeline={p.timeline} />
      <SessionsChart page={p.page} id="nodes-chart" heading={t('admin-stats.nodes.heading')} desc="admin-stats.nodes.desc" series={named(p.byNode, p.nodes)} query={p.query} timeline={p.timeline} />
      <section id="users-per-day" aria-labelledby="users-per-day-heading">
        <h2 id="users-per-day-heading">{t('admin-stats.users.heading')}</h2>
        <p class="muted">{t('admin-stats.users.note')}</p>
        <BarTable
          caption={t('admin-stats.users.heading')}
          labelHeader={t('admin-stats.users.day')}
          valueHeader={t('admin-stats.users.count')}
          barHeader={t('admin-stats.bar')}
          rows={p.users.map((u) => ({ key: new Date(u.day).toISOString().slice(0, 10), label: new Date(u.day).toISOString().slice(0, 10), value: u.users }))}
        />
      </section>
      <section id="app-usage" aria-labelledby="app-usage-heading">
        <h2 id="app-usage-heading">{t('admin-stats.apps.heading')}</h2>
        <p class="muted">{t('admin-stats.apps.note', { top: TOP_APPS })}</p>
        {appRows.length ? (
          <BarTable caption={t('admin-stats.apps.heading')} labelHeader={t('admin-stats.apps.app')} valueHeader={t('admin-stats.apps.count')} barHeader={t('admin-stats.bar')} rows={appRows} />
        ) : (
          <p class="muted">{t('admin-stats.apps.none')}</p>
        )}
      </section>
      <section id="csv-export" aria-labelledby="csv-export-heading">
        <h2 id="csv-export-heading">{t('admin-stats.csv.heading')}</h2>
        <ul>
          {CSV_KINDS.map((kind) => {
            const params = new URLSearchParams(p.csvParams);
            params.set('kind', kind);
            return (
              <li>
                <a href={`/admin/stats.csv?${params}`} id={`csv-${kind}`} download="">
                  {t(`admin-stats.csv.${kind}`)}
                </a>
              </li>
            );
          })}
        </ul>
      </section>
    </Layout>
  );
}
