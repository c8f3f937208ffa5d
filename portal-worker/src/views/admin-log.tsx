import type { FieldError } from '../core/errors.ts';
import { formatTime } from '../i18n/index.ts';
import { FieldErrors, Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export interface LogHit {
  id: number;
  user_id: string;
  profile_id: string;
  node_id: string;
  vpn_proto: string;
  ip_four: string | null;
  ip_six: string | null;
  connected_at: number;
  disconnected_at: number | null;
}

export interface LogPageProps {
  page: UserPageContext;
  values: { ip: string; at: string };
  errors: FieldError[];
  /** null before a search; the address searched and its answer after. */
  result: { ip: string; at: string; hits: LogHit[] } | null;
}

function Results(p: { page: UserPageContext; result: NonNullable<LogPageProps['result']> }) {
  const { t } = p.page;
  const { result } = p;
  return (
    <section id="log-results" aria-labelledby="log-results-heading">
      <h2 id="log-results-heading">{t('admin-stats.log.results', { ip: result.ip, at: result.at })}</h2>
      {result.hits.length ? (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t('admin-stats.log.user')}</th>
                <th scope="col">{t('admin-stats.log.profile')}</th>
                <th scope="col">{t('admin-stats.log.node')}</th>
                <th scope="col">{t('admin-stats.log.protocol')}</th>
                <th scope="col">{t('admin-stats.log.addresses')}</th>
                <th scope="col">{t('admin-stats.log.connected')}</th>
                <th scope="col">{t('admin-stats.log.disconnected')}</th>
              </tr>
            </thead>
            <tbody>
              {result.hits.map((h) => (
                <tr data-log-id={String(h.id)}>
                  <td>
                    <a href={`/admin/users/${encodeURIComponent(h.user_id)}`}>{h.user_id}</a>
                  </td>
                  <td>{h.profile_id}</td>
                  <td>{h.node_id}</td>
                  <td>{h.vpn_proto === 'wireguard' ? 'WireGuard' : 'OpenVPN'}</td>
                  <td>
                    {[h.ip_four, h.ip_six].filter(Boolean).map((ip) => (
                      <code class="addr">{ip}</code>
                    ))}
                  </td>
                  <td>{formatTime(h.connected_at)}</td>
                  <td>{h.disconnected_at === null ? <span class="badge ok">{t('admin-stats.log.stillConnected')}</span> : formatTime(h.disconnected_at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="notice" role="status">
          {t('admin-stats.log.none')}
        </p>
      )}
    </section>
  );
}

/** "Who had address X at time T": a GET form, so a search is a link an admin can keep. */
export function LogPage(p: LogPageProps) {
  const { t } = p.page;
  return (
    <Layout page={p.page} title={t('admin-stats.log.title')} wide>
      <h1>{t('admin-stats.log.title')}</h1>
      <p>{t('admin-stats.log.intro')}</p>
      <FieldErrors page={p.page} errors={p.errors} />
      <form method="get" action="/admin/log" class="toolbar" id="log-search">
        <label>
          {t('admin-stats.log.ip')}
          <input name="ip" id="log-ip" value={p.values.ip} required autocomplete="off" spellcheck={false} aria-invalid={p.errors.some((e) => e.path === 'ip') ? 'true' : undefined} />
        </label>
        <label>
          {t('admin-stats.log.at')}
          <input
            name="at"
            id="log-at"
            type="datetime-local"
            step="1"
            value={p.values.at}
            required
            aria-describedby="log-at-hint"
            aria-invalid={p.errors.some((e) => e.path === 'at') ? 'true' : undefined}
          />
        </label>
        <button type="submit">{t('common.search')}</button>
      </form>
      <p class="muted" id="log-at-hint">
        {t('admin-stats.log.atHint')}
      </p>
      {p.result ? <Results page={p.page} result={p.result} /> : null}
    </Layout>
  );
}
