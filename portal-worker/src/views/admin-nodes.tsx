import type { ProfileConfig } from '../domain/profile.ts';
import type { FieldError } from '../core/errors.ts';
import type { NodeState, NodeView } from '../store/nodes.ts';
import { NodeFields, type NodeFormValues } from './admin-node-form.tsx';
import { healthOf, Heartbeat, Load, Revision, Sessions, StatusBadge } from './admin-node-status.tsx';
import { FieldErrors, Layout, LiveRegion, RowAction } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export interface NodeRow {
  node: NodeView;
  state: NodeState;
}

export interface NodesTableProps {
  page: UserPageContext;
  rows: NodeRow[];
  now: number;
  healthyMs: number;
}

export const nodeHref = (id: string) => `/admin/nodes/${encodeURIComponent(id)}`;

/** The live part of /admin/nodes: also answered alone as the fragment the page polls. */
export function NodesTable({ page, rows, now, healthyMs }: NodesTableProps) {
  const { t } = page;
  if (!rows.length) return <p class="muted">{t('admin-nodes.empty')}</p>;
  return (
    <div class="table-wrap">
      <table id="nodes-table">
        <caption class="sr-only">{t('admin-nodes.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('admin-nodes.field.id')}</th>
            <th scope="col">{t('admin-nodes.field.name')}</th>
            <th scope="col">{t('admin-nodes.field.host')}</th>
            <th scope="col">{t('admin-nodes.field.profiles')}</th>
            <th scope="col">{t('admin-nodes.field.status')}</th>
            <th scope="col">{t('admin-nodes.field.agent')}</th>
            <th scope="col">{t('admin-nodes.field.revision')}</th>
            <th scope="col">{t('admin-nodes.field.heartbeat')}</th>
            <th scope="col">{t('admin-nodes.field.load')}</th>
            <th scope="col">{t('admin-nodes.field.sessions')}</th>
            <th scope="col">
              <span class="sr-only">{t('admin-nodes.field.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map(({ node, state }) => {
            const health = healthOf(state, now, healthyMs);
            return (
              <tr id={`node-row-${node.id}`} data-node={node.id} data-status={health}>
                <th scope="row">
                  <a href={nodeHref(node.id)}>{node.id}</a>
                </th>
                <td>{node.name}</td>
                <td>{node.host_name}</td>
                <td>
                  {node.profiles.length
                    ? node.profiles.map((p, i) => (
                        <>
                          {i ? ', ' : null}
                          <a href={`/admin/profiles/${encodeURIComponent(p.profile_id)}`}>{p.profile_id}</a>
                        </>
                      ))
                    : t('common.none')}
                </td>
                <td>
                  <StatusBadge t={t} health={health} />
                </td>
                <td data-agent-version={state.agent_version ?? ''}>{state.agent_version ?? t('common.none')}</td>
                <td>
                  <Revision t={t} s={state} online={health === 'online'} />
                </td>
                <td>
                  <Heartbeat t={t} s={state} now={now} />
                </td>
                <td>
                  <Load t={t} s={state} />
                </td>
                <td>
                  <Sessions t={t} s={state} />
                </td>
                <td>
                  {health === 'revoked' ? null : (
                    <RowAction
                      page={page}
                      action={`${nodeHref(node.id)}/revoke`}
                      confirm={t('admin-nodes.revoke.confirm', { id: node.id })}
                      label={t('admin-nodes.revoke.button')}
                      name={t('admin-nodes.revoke.labelFor', { id: node.id })}
                    />
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function NodesPage(props: NodesTableProps & { profiles: ProfileConfig[]; values: NodeFormValues; errors: FieldError[] }) {
  const { page } = props;
  const { t } = page;
  return (
    <Layout page={page} title={t('admin-nodes.title')} wide>
      <h1>{t('admin-nodes.title')}</h1>
      <p class="muted">
        {t('common.live')} · {t('common.utc')}
      </p>
      <LiveRegion id="nodes-live" src="/admin/nodes">
        <NodesTable page={page} rows={props.rows} now={props.now} healthyMs={props.healthyMs} />
      </LiveRegion>
      <h2 id="add-node">{t('admin-nodes.add.title')}</h2>
      <p class="muted">{t('admin-nodes.add.intro')}</p>
      <FieldErrors page={page} errors={props.errors} />
      <form method="post" action="/admin/nodes" class="stack" id="new-node-form" aria-labelledby="add-node">
        <NodeFields page={page} values={props.values} profiles={props.profiles} mode="new" />
        <button type="submit">{t('admin-nodes.add.submit')}</button>
      </form>
    </Layout>
  );
}
