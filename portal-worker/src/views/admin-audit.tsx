import type { FieldError } from '../core/errors.ts';
import { formatTime } from '../i18n/index.ts';
import type { AuditRow } from '../store/audit.ts';
import { FieldErrors, Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export interface AuditFilterValues {
  actor: string;
  action: string;
  target: string;
}

export interface AuditPageProps {
  page: UserPageContext;
  filters: AuditFilterValues;
  errors: FieldError[];
  entries: AuditRow[];
  /** Link to the next (older) page, when there is one. */
  olderHref: string | null;
  /** Link back to the newest page, when this is not it. */
  newestHref: string | null;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The top-level keys whose value differs between before and after (all keys of a created or deleted object). */
export function changedKeys(before: unknown, after: unknown): Set<string> {
  const b = isRecord(before) ? before : {};
  const a = isRecord(after) ? after : {};
  const keys = new Set([...Object.keys(b), ...Object.keys(a)]);
  return new Set([...keys].filter((k) => JSON.stringify(b[k]) !== JSON.stringify(a[k])));
}

/** Pretty JSON with each changed top-level key wrapped in <mark class="changed">. */
function Json(p: { value: unknown; changed: Set<string>; nothing: string }) {
  if (p.value === null || p.value === undefined) return <pre class="audit-json muted">{p.nothing}</pre>;
  if (!isRecord(p.value)) return <pre class="audit-json">{JSON.stringify(p.value, null, 2)}</pre>;
  const entries = Object.entries(p.value);
  return (
    <pre class="audit-json">
      {'{\n'}
      {entries.map(([k, v], i) => {
        const line = `  ${JSON.stringify(k)}: ${JSON.stringify(v, null, 2).replaceAll('\n', '\n  ')}${i < entries.length - 1 ? ',' : ''}`;
        return (
          <>
            {p.changed.has(k) ? (
              <mark class="changed" data-key={k}>
                {line}
              </mark>
            ) : (
              line
            )}
            {'\n'}
          </>
        );
      })}
      {'}'}
    </pre>
  );
}

function Entry(p: { page: UserPageContext; e: AuditRow }) {
  const { t } = p.page;
  const { e } = p;
  const changed = changedKeys(e.before, e.after);
  return (
    <tr id={`audit-${e.id}`} data-action={e.action}>
      <td>
        <time datetime={new Date(e.at).toISOString()}>{formatTime(e.at)}</time>
      </td>
      <td>{e.actor ?? <span class="muted">{t('admin-stats.audit.system')}</span>}</td>
      <td>
        <code>{e.action}</code>
      </td>
      <td>
        <code>
          {e.targetType}:{e.targetId}
        </code>
      </td>
      <td>{e.requestId ? <code class="small">{e.requestId}</code> : t('common.none')}</td>
      <td>
        {e.before === null && e.after === null ? (
          t('common.none')
        ) : (
          <details>
            <summary>{t('admin-stats.audit.details')}</summary>
            <p class="muted small">{t('admin-stats.audit.changedNote')}</p>
            <div class="audit-diff">
              <div>
                <h3 class="small">{t('admin-stats.audit.before')}</h3>
                <Json value={e.before} changed={changed} nothing={t('admin-stats.audit.nothing')} />
              </div>
              <div>
                <h3 class="small">{t('admin-stats.audit.after')}</h3>
                <Json value={e.after} changed={changed} nothing={t('admin-stats.audit.nothing')} />
              </div>
            </div>
          </details>
        )}
      </td>
    </tr>
  );
}

export function AuditPage(p: AuditPageProps) {
  const { t } = p.page;
  const f = p.filters;
  return (
    <Layout page={p.page} title={t('admin-stats.audit.title')} wide>
      <h1>{t('admin-stats.audit.title')}</h1>
      <FieldErrors page={p.page} errors={p.errors} />
      <form method="get" action="/admin/audit" class="toolbar" id="audit-filters" aria-label={t('admin-stats.audit.filters')}>
        <label>
          {t('admin-stats.audit.actor')}
          <input name="actor" id="audit-actor" value={f.actor} autocomplete="off" />
        </label>
        <label>
          {t('admin-stats.audit.action')}
          <input name="action" id="audit-action" value={f.action} autocomplete="off" placeholder="user." />
        </label>
        <label>
          {t('admin-stats.audit.target')}
          <input name="target" id="audit-target" value={f.target} autocomplete="off" />
        </label>
        <button type="submit">{t('admin-stats.audit.filter')}</button>
        {f.actor || f.action || f.target ? <a href="/admin/audit">{t('admin-stats.audit.clear')}</a> : null}
      </form>
      {p.entries.length ? (
        <div class="table-wrap">
          <table id="audit-table">
            <thead>
              <tr>
                <th scope="col">{t('admin-stats.audit.when')}</th>
                <th scope="col">{t('admin-stats.audit.who')}</th>
                <th scope="col">{t('admin-stats.audit.what')}</th>
                <th scope="col">{t('admin-stats.audit.targetCol')}</th>
                <th scope="col">{t('admin-stats.audit.request')}</th>
                <th scope="col">{t('admin-stats.audit.changes')}</th>
              </tr>
            </thead>
            <tbody>
              {p.entries.map((e) => (
                <Entry page={p.page} e={e} />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="notice" role="status">
          {t('admin-stats.audit.empty')}
        </p>
      )}
      {p.olderHref || p.newestHref ? (
        <nav class="toolbar" aria-label={t('admin-stats.audit.paging')}>
          {p.newestHref ? (
            <a href={p.newestHref} id="audit-newest">
              {t('admin-stats.audit.newest')}
            </a>
          ) : null}
          {p.olderHref ? (
            <a href={p.olderHref} id="audit-older" rel="next">
              {t('admin-stats.audit.older')}
            </a>
          ) : null}
        </nav>
      ) : null}
    </Layout>
  );
}
