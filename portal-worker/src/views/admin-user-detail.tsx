import { formatTime } from '../i18n/index.ts';
import type { UserDetail } from '../store/user-detail.ts';
import { Layout, PostForm } from './layout.tsx';
import type { UserPageContext } from './page.ts';
import { formatBytes, protocolName, RoleBadge, StatusBadge, userHref } from './admin-user-parts.tsx';

/** `providerName`: the display name of the user's OpenID provider (its id if no longer configured). */
type Props = { page: UserPageContext; detail: UserDetail; now: number; refused?: boolean; providerName?: string | null };

/** Upstream's /user?user_id=: the account, what it holds, its recent connections and the actions. */
export function UserDetailPage(props: Props) {
  const { page, detail } = props;
  const { t } = page;
  const u = detail.user;
  return (
    <Layout page={page} title={t('admin-users.detail.title', { id: u.id })} wide>
      <p>
        <a href="/admin/users">{t('admin-users.detail.back')}</a>
      </p>
      <h1>{t('admin-users.detail.title', { id: u.id })}</h1>
      {props.refused ? (
        <p class="errors" role="alert" id="user-refused">
          {t('admin-users.detail.self')}
        </p>
      ) : null}
      <dl class="facts" id="user-facts">
        <dt>{t('admin-users.col.id')}</dt>
        <dd>
          <code>{u.id}</code>
        </dd>
        <dt>{t('admin-users.col.name')}</dt>
        <dd>{u.displayName ?? t('common.none')}</dd>
        <dt>{t('admin-users.col.role')}</dt>
        <dd>
          <RoleBadge page={page} admin={u.isAdmin} />
        </dd>
        <dt>{t('admin-users.col.status')}</dt>
        <dd>
          <StatusBadge page={page} disabled={u.isDisabled} />
        </dd>
        <dt>{t('admin-users.detail.permissions')}</dt>
        <dd>{u.permissions.length ? u.permissions.map((p) => <code class="perm">{p}</code>) : t('common.none')}</dd>
        <dt>{t('admin-users.detail.localAccount')}</dt>
        <dd>{t(u.hasLocalAccount ? 'common.yes' : 'common.no')}</dd>
        <dt>{t('sso.admin.signIn')}</dt>
        <dd id="user-sign-in" data-provider={u.authProvider ?? ''}>
          {u.authProvider ? (props.providerName ?? u.authProvider) : t('sso.admin.local')}
        </dd>
        {u.authProvider ? (
          <>
            <dt>{t('sso.admin.permissionsAt')}</dt>
            <dd>{formatTime(u.permissionsAt)}</dd>
          </>
        ) : null}
        <dt>{t('admin-users.detail.created')}</dt>
        <dd>{formatTime(u.createdAt)}</dd>
        <dt>{t('admin-users.col.lastSeen')}</dt>
        <dd>{formatTime(u.lastSeenAt)}</dd>
      </dl>
      <Actions page={page} detail={detail} />
      <Configs {...props} />
      <Apps {...props} />
      <Connections {...props} />
    </Layout>
  );
}

function Actions({ page, detail }: { page: UserPageContext; detail: UserDetail }) {
  const { t } = page;
  const u = detail.user;
  const base = userHref(u.id);
  return (
    <section aria-labelledby="user-actions-title" id="user-actions">
      <h2 id="user-actions-title">{t('admin-users.actions.title')}</h2>
      {u.id === page.user.id ? (
        <p class="notice" id="user-self-note">
          {t('admin-users.detail.self')}
        </p>
      ) : (
        <div class="toolbar">
          {u.isDisabled ? (
            <PostForm page={page} action={`${base}/enable`} confirm={t('admin-users.actions.enableConfirm', { id: u.id })}>
              <button type="submit" id="user-enable">
                {t('admin-users.actions.enable')}
              </button>
            </PostForm>
          ) : (
            <PostForm page={page} action={`${base}/disable`} confirm={t('admin-users.actions.disableConfirm', { id: u.id })}>
              <button type="submit" class="danger" id="user-disable">
                {t('admin-users.actions.disable')}
              </button>
            </PostForm>
          )}
          <PostForm page={page} action={`${base}/delete`} confirm={t('admin-users.actions.deleteConfirm', { id: u.id })}>
            <button type="submit" class="danger" id="user-delete">
              {t('admin-users.actions.delete')}
            </button>
          </PostForm>
        </div>
      )}
      <p class="muted small">{t('admin-users.actions.help')}</p>
    </section>
  );
}

function Configs({ page, detail, now }: Props) {
  const { t } = page;
  return (
    <section aria-labelledby="user-configs-title">
      <h2 id="user-configs-title">{t('admin-users.configs.title')}</h2>
      {detail.configs.length ? (
        <div class="table-wrap">
          <table id="user-configs" aria-labelledby="user-configs-title">
            <thead>
              <tr>
                <th scope="col">{t('admin-users.col.protocol')}</th>
                <th scope="col">{t('admin-users.col.profile')}</th>
                <th scope="col">{t('admin-users.col.node')}</th>
                <th scope="col">{t('admin-users.col.configName')}</th>
                <th scope="col">{t('admin-users.col.ipFour')}</th>
                <th scope="col">{t('admin-users.col.ipSix')}</th>
                <th scope="col">{t('admin-users.detail.created')}</th>
                <th scope="col">{t('admin-users.col.expires')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.configs.map((c) => (
                <tr data-config={c.key}>
                  <td>{protocolName(c.protocol)}</td>
                  <td>{detail.profileNames.get(c.profileId) ?? c.profileId}</td>
                  <td>{detail.nodeNames.get(c.nodeId) ?? c.nodeId}</td>
                  <td>
                    {c.displayName} <span class="badge off">{t(c.authorizationId ? 'admin-users.kind.app' : 'admin-users.kind.portal')}</span>
                  </td>
                  <td>{c.ipFour ?? t('common.none')}</td>
                  <td>{c.ipSix ?? t('common.none')}</td>
                  <td>{formatTime(c.createdAt)}</td>
                  <td>
                    {formatTime(c.expiresAt)}
                    {c.expiresAt <= now ? (
                      <>
                        {' '}
                        <span class="badge bad">{t('admin-users.configs.expired')}</span>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p id="user-configs-empty">{t('admin-users.configs.empty')}</p>
      )}
    </section>
  );
}

function Apps({ page, detail }: Props) {
  const { t } = page;
  return (
    <section aria-labelledby="user-apps-title">
      <h2 id="user-apps-title">{t('admin-users.apps.title')}</h2>
      {detail.apps.length ? (
        <div class="table-wrap">
          <table id="user-apps" aria-labelledby="user-apps-title">
            <thead>
              <tr>
                <th scope="col">{t('admin-users.apps.client')}</th>
                <th scope="col">{t('admin-users.apps.authorized')}</th>
                <th scope="col">{t('admin-users.apps.lastUsed')}</th>
                <th scope="col">{t('admin-users.col.expires')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.apps.map((a) => (
                <tr>
                  <td>
                    <code>{a.clientId}</code>
                  </td>
                  <td>{formatTime(a.createdAt)}</td>
                  <td>{formatTime(a.lastUsedAt)}</td>
                  <td>{formatTime(a.expiresAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p id="user-apps-empty">{t('admin-users.apps.empty')}</p>
      )}
    </section>
  );
}

function Connections({ page, detail }: Props) {
  const { t } = page;
  return (
    <section aria-labelledby="user-connections-title">
      <h2 id="user-connections-title">{t('admin-users.log.title')}</h2>
      <p class="muted small">{t('admin-users.log.help')}</p>
      {detail.connections.length ? (
        <div class="table-wrap">
          <table id="user-connections" aria-labelledby="user-connections-title">
            <thead>
              <tr>
                <th scope="col">{t('admin-users.col.protocol')}</th>
                <th scope="col">{t('admin-users.col.profile')}</th>
                <th scope="col">{t('admin-users.col.node')}</th>
                <th scope="col">{t('admin-users.col.ipFour')}</th>
                <th scope="col">{t('admin-users.col.ipSix')}</th>
                <th scope="col">{t('admin-users.log.connected')}</th>
                <th scope="col">{t('admin-users.log.disconnected')}</th>
                <th scope="col">{t('admin-users.log.bytes')}</th>
              </tr>
            </thead>
            <tbody>
              {detail.connections.map((e) => (
                <tr>
                  <td>{protocolName(e.protocol)}</td>
                  <td>{detail.profileNames.get(e.profileId) ?? e.profileId}</td>
                  <td>{detail.nodeNames.get(e.nodeId) ?? e.nodeId}</td>
                  <td>{e.ipFour ?? t('common.none')}</td>
                  <td>{e.ipSix ?? t('common.none')}</td>
                  <td>{formatTime(e.connectedAt)}</td>
                  <td>{e.disconnectedAt === null ? <span class="badge ok">{t('admin-users.log.open')}</span> : formatTime(e.disconnectedAt)}</td>
                  <td>{e.bytesIn === null && e.bytesOut === null ? t('common.none') : t('admin-users.traffic', { rx: formatBytes(e.bytesIn), tx: formatBytes(e.bytesOut) })}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : (
        <p id="user-connections-empty">{t('admin-users.log.empty')}</p>
      )}
    </section>
  );
}
