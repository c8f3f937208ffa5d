import type { FieldError } from '../core/errors.ts';
import { formatTime } from '../i18n/index.ts';
import type { LiveStatus } from '../domain/live-status.ts';
import { FieldErrors, Layout, LiveRegion, RowAction } from './layout.tsx';
import type { UserPageContext } from './page.ts';
import type { ConnectionRow, NodeSection, ProfileSection } from './admin-connections-model.ts';
import { formatBytes, protocolName, userHref } from './admin-user-parts.tsx';

type Props = { page: UserPageContext; sections: ProfileSection[] };

/** Upstream's /connections: per profile and node, the configurations placed there and who is connected. */
export function ConnectionsPage(props: Props & { errors: FieldError[] }) {
  const { t } = props.page;
  return (
    <Layout page={props.page} title={t('admin-users.conn.title')} wide>
      <h1>{t('admin-users.conn.title')}</h1>
      <p class="muted">
        {t('admin-users.conn.intro')} {t('common.live')}, {t('common.utc')}.
      </p>
      <FieldErrors page={props.page} errors={props.errors} />
      <LiveRegion id="connections-live" src="/admin/connections">
        <ConnectionsTables {...props} />
      </LiveRegion>
    </Layout>
  );
}

/** The live part: also the fragment the page polls. */
export function ConnectionsTables({ page, sections }: Props) {
  const { t } = page;
  if (!sections.length) return <p id="connections-empty">{t('admin-users.conn.noProfiles')}</p>;
  return (
    <>
      {sections.map((p) => (
        <section class="connections-profile" aria-labelledby={`profile-${p.id}`} data-profile={p.id}>
          <h2 id={`profile-${p.id}`}>
            {p.displayName} <code class="muted small">{p.id}</code>
          </h2>
          {p.nodes.length ? p.nodes.map((n) => <NodeTable page={page} profileId={p.id} node={n} />) : <p class="muted">{t('admin-users.conn.noNodes')}</p>}
        </section>
      ))}
    </>
  );
}

function ReportLine({ page, node }: { page: UserPageContext; node: NodeSection }) {
  const { t } = page;
  switch (node.report.kind) {
    case 'none':
      return <span class="badge off">{t('admin-users.conn.report.none')}</span>;
    case 'stale':
      return <span class="badge warn">{t('admin-users.conn.report.stale', { at: formatTime(node.report.at) })}</span>;
    case 'fresh':
      return <span class="muted small">{t('admin-users.conn.report.at', { at: formatTime(node.report.at) })}</span>;
  }
}

function NodeTable({ page, profileId, node }: { page: UserPageContext; profileId: string; node: NodeSection }) {
  const { t } = page;
  const headingId = `node-${profileId}-${node.nodeId}`;
  return (
    <div class="connections-node" data-node={node.nodeId}>
      <h3 id={headingId}>
        {t('admin-users.conn.node', { name: node.name })} <span class="connections-count">{t('admin-users.conn.count', { active: node.active, placed: node.rows.length })}</span>{' '}
        <ReportLine page={page} node={node} />
      </h3>
      {node.rows.length ? (
        <div class="table-wrap">
          <table aria-labelledby={headingId}>
            <thead>
              <tr>
                <th scope="col">{t('admin-users.col.id')}</th>
                <th scope="col">{t('admin-users.col.configName')}</th>
                <th scope="col">{t('admin-users.col.protocol')}</th>
                <th scope="col">{t('admin-users.col.ipFour')}</th>
                <th scope="col">{t('admin-users.col.ipSix')}</th>
                <th scope="col">{t('admin-users.conn.col.status')}</th>
                <th scope="col">{t('admin-users.conn.col.traffic')}</th>
                <th scope="col">
                  <span class="sr-only">{t('admin-users.conn.col.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {node.rows.map((r) => (
                <Row page={page} row={r} />
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">{t('admin-users.conn.noConfigs')}</p>
      )}
    </div>
  );
}

function Row({ page, row }: { page: UserPageContext; row: ConnectionRow }) {
  const { t } = page;
  const c = row.config;
  const s = row.status;
  // OpenVPN addresses come with the connection, so the report has them.
  const ipFour = c.ipFour ?? (s.kind === 'connected' && s.protocol === 'openvpn' ? s.ipFour : null);
  const ipSix = c.ipSix ?? (s.kind === 'connected' && s.protocol === 'openvpn' ? s.ipSix : null);
  const name = `${c.displayName} (${c.userId})`;
  return (
    <tr data-config={c.key} data-user={c.userId} data-status={s.kind}>
      <th scope="row">
        <a href={userHref(c.userId)}>{c.userId}</a>
      </th>
      <td>
        {c.displayName} <span class="badge off">{t(c.authorizationId ? 'admin-users.kind.app' : 'admin-users.kind.portal')}</span>
      </td>
      <td>{protocolName(c.protocol)}</td>
      <td>{ipFour ?? t('common.none')}</td>
      <td>{ipSix ?? t('common.none')}</td>
      <td>
        <Status page={page} status={s} />
      </td>
      <td>{'rx' in s ? t('admin-users.traffic', { rx: formatBytes(s.rx), tx: formatBytes(s.tx) }) : t('common.none')}</td>
      <td>
        <RowAction
          page={page}
          action="/admin/connections/kill"
          confirm={t('admin-users.conn.kill.confirm', { name })}
          fields={{ protocol: c.protocol, key: c.key }}
          label={t('admin-users.conn.kill')}
          name={t('admin-users.conn.kill.label', { name })}
        />
      </td>
    </tr>
  );
}

function Status({ page, status }: { page: UserPageContext; status: LiveStatus }) {
  const { t } = page;
  switch (status.kind) {
    case 'unknown':
      return <span class="badge off">{t('admin-users.conn.status.unknown')}</span>;
    case 'offline':
      return <span class="badge off">{t('admin-users.conn.status.offline')}</span>;
    case 'idle':
      return <span class="badge warn">{t('admin-users.conn.status.idle', { at: formatTime(status.lastHandshake) })}</span>;
    case 'connected':
      return (
        <span class="badge ok">
          {status.protocol === 'wireguard' ? t('admin-users.conn.status.handshake', { at: formatTime(status.lastHandshake) }) : t('admin-users.conn.status.since', { at: formatTime(status.since) })}
        </span>
      );
  }
}
