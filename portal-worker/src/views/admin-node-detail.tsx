import type { ProfileConfig } from '../domain/profile.ts';
import type { FieldError } from '../core/errors.ts';
import { formatTime } from '../i18n/index.ts';
import type { NodeState, NodeView } from '../store/nodes.ts';
import { NodeFields, type NodeFormValues } from './admin-node-form.tsx';
import { healthOf, Heartbeat, Load, Revision, Sessions, StatusBadge } from './admin-node-status.tsx';
import { nodeHref } from './admin-nodes.tsx';
import { FieldErrors, Layout, LiveRegion, PostForm } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export interface NodeStatusProps {
  page: UserPageContext;
  state: NodeState;
  now: number;
  healthyMs: number;
}

/** The live part of /admin/nodes/:id, also answered alone as its fragment. */
export function NodeStatusPanel({ page, state: s, now, healthyMs }: NodeStatusProps) {
  const { t } = page;
  const health = healthOf(s, now, healthyMs);
  return (
    <dl class="node-facts" data-status={health}>
      <dt>{t('admin-nodes.field.status')}</dt>
      <dd>
        <StatusBadge t={t} health={health} />
      </dd>
      <dt>{t('admin-nodes.field.agent')}</dt>
      <dd data-agent-version={s.agent_version ?? ''}>{s.agent_version ?? t('common.none')}</dd>
      <dt>{t('admin-nodes.field.revision')}</dt>
      <dd>
        <Revision t={t} s={s} online={health === 'online'} />
      </dd>
      <dt>{t('admin-nodes.field.heartbeat')}</dt>
      <dd>
        <Heartbeat t={t} s={s} now={now} />
      </dd>
      <dt>{t('admin-nodes.field.load')}</dt>
      <dd>
        <Load t={t} s={s} />
      </dd>
      <dt>{t('admin-nodes.field.sessions')}</dt>
      <dd>
        <Sessions t={t} s={s} />
      </dd>
      <dt>{t('admin-nodes.field.enrolled')}</dt>
      <dd>{s.enrolled_at !== null ? formatTime(s.enrolled_at) : t('common.no')}</dd>
      {s.enrollment_expires_at !== null ? (
        <>
          <dt>{t('admin-nodes.field.tokenPending')}</dt>
          <dd>{t('admin-nodes.enroll.validUntil', { time: formatTime(s.enrollment_expires_at) })}</dd>
        </>
      ) : null}
      {s.revoked_at !== null ? (
        <>
          <dt>{t('admin-nodes.field.revoked')}</dt>
          <dd>{formatTime(s.revoked_at)}</dd>
        </>
      ) : null}
    </dl>
  );
}

export interface Enrollment {
  command: string;
  expiresAt: number;
}

function EnrollSection({ page, node, state, enrollment }: { page: UserPageContext; node: NodeView; state: NodeState; enrollment: Enrollment | null }) {
  const { t } = page;
  if (enrollment) {
    return (
      <div class="notice" role="status" id="enrollment">
        <p>{t('admin-nodes.enroll.once')}</p>
        <label>
          {t('admin-nodes.enroll.command')}
          <textarea id="enroll-command" class="config" readonly rows={3}>
            {enrollment.command}
          </textarea>
        </label>
        <p>
          <button type="button" class="secondary" data-copy="#enroll-command" data-copied-label={t('common.copied')}>
            {t('common.copy')}
          </button>
        </p>
        <p id="enroll-expiry">{t('admin-nodes.enroll.validUntil', { time: formatTime(enrollment.expiresAt) })}</p>
      </div>
    );
  }
  if (state.revoked_at !== null) return <p class="muted">{t('admin-nodes.enroll.revoked')}</p>;
  return (
    <>
      <p class="muted">{state.enrolled ? t('admin-nodes.enroll.reIntro') : t('admin-nodes.enroll.intro')}</p>
      <form method="post" action={`${nodeHref(node.id)}/enroll`} id="enroll-form" data-confirm={state.enrolled ? t('admin-nodes.enroll.reConfirm', { id: node.id }) : undefined}>
        <input type="hidden" name="_csrf" value={page.csrf} />
        <button type="submit">{state.enrolled ? t('admin-nodes.enroll.reButton') : t('admin-nodes.enroll.button')}</button>
      </form>
    </>
  );
}

export function NodeDetailPage(props: NodeStatusProps & { node: NodeView; profiles: ProfileConfig[]; values: NodeFormValues; errors: FieldError[]; enrollment: Enrollment | null }) {
  const { page, node, state } = props;
  const { t } = page;
  const title = t('admin-nodes.detail.title', { id: node.id });
  return (
    <Layout page={page} title={title} wide>
      <p>
        <a href="/admin/nodes">{t('admin-nodes.detail.back')}</a>
      </p>
      <h1>{title}</h1>
      <p class="muted">
        {node.name} · {node.host_name} · {t('common.utc')}
      </p>
      <LiveRegion id="node-status" src={nodeHref(node.id)}>
        <NodeStatusPanel page={page} state={state} now={props.now} healthyMs={props.healthyMs} />
      </LiveRegion>

      <h2 id="enroll">{t('admin-nodes.enroll.title')}</h2>
      <EnrollSection page={page} node={node} state={state} enrollment={props.enrollment} />

      <h2 id="edit-node">{t('admin-nodes.edit.title')}</h2>
      <FieldErrors page={page} errors={props.errors} />
      <form method="post" action={nodeHref(node.id)} class="stack" id="node-edit-form" aria-labelledby="edit-node">
        <NodeFields page={page} values={props.values} profiles={props.profiles} mode="edit" />
        <button type="submit">{t('common.save')}</button>
      </form>

      <h2 id="node-danger">{t('admin-nodes.danger.title')}</h2>
      <div class="toolbar">
        {state.revoked_at === null ? (
          <PostForm page={page} action={`${nodeHref(node.id)}/revoke`} confirm={t('admin-nodes.revoke.confirm', { id: node.id })}>
            <button type="submit" class="danger" id="revoke-node">
              {t('admin-nodes.revoke.button')}
            </button>
          </PostForm>
        ) : null}
        <PostForm page={page} action={`${nodeHref(node.id)}/delete`} confirm={t('admin-nodes.delete.confirm', { id: node.id })}>
          <button type="submit" class="danger" id="delete-node">
            {t('admin-nodes.delete.button')}
          </button>
        </PostForm>
      </div>
    </Layout>
  );
}
