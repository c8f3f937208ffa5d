import { formatTime } from '../i18n/index.ts';
import type { ProfileConfig } from '../domain/profile.ts';
import type { UserPageContext } from './page.ts';
import { Layout, RowAction } from './layout.tsx';

export interface AuthorizedApp {
  id: string;
  clientName: string;
  createdAt: number;
  expiresAt: number;
}

export interface AccountProps {
  page: UserPageContext;
  apps: AuthorizedApp[];
  profiles: ProfileConfig[];
  hasLocalAccount: boolean;
  passwordChanged: boolean;
}

/** Upstream's /account: who the user is, what they may use, and which apps hold configurations for them. */
export function AccountPage(props: AccountProps) {
  const { page } = props;
  const { t, user } = page;
  return (
    <Layout page={page} title={t('portal.account.title')}>
      <h1>{t('portal.account.title')}</h1>
      {props.passwordChanged ? (
        <p class="notice" role="status" id="password-changed">
          {t('portal.account.passwordChanged')}
        </p>
      ) : null}
      <dl id="account-facts">
        <dt>{t('portal.account.userId')}</dt>
        <dd>
          <code id="account-user-id">{user.id}</code>
        </dd>
        <dt>{t('portal.account.displayName')}</dt>
        <dd>{user.displayName ?? t('common.none')}</dd>
        <dt>{t('portal.account.permissions')}</dt>
        <dd id="account-permissions">
          {user.permissions.length ? (
            <ul>
              {user.permissions.map((p) => (
                <li>
                  <code>{p}</code>
                </li>
              ))}
            </ul>
          ) : (
            t('portal.account.noPermissions')
          )}
        </dd>
        <dt>{t('portal.account.profiles')}</dt>
        <dd id="account-profiles">
          {props.profiles.length ? (
            <ul>
              {props.profiles.map((p) => (
                <li>
                  {p.display_name} <code>{p.id}</code>
                </li>
              ))}
            </ul>
          ) : (
            t('portal.profiles.none')
          )}
        </dd>
      </dl>
      {props.hasLocalAccount ? (
        <p>
          <a href="/account/password" id="change-password">
            {t('portal.account.changePassword')}
          </a>
        </p>
      ) : null}
      <h2 id="apps-heading">{t('portal.account.apps')}</h2>
      {props.apps.length === 0 ? <p id="apps-none">{t('portal.account.noApps')}</p> : <AppTable page={page} apps={props.apps} />}
    </Layout>
  );
}

function AppTable({ page, apps }: { page: UserPageContext; apps: AuthorizedApp[] }) {
  const { t } = page;
  return (
    <div class="table-wrap">
      <table id="apps" aria-labelledby="apps-heading">
        <thead>
          <tr>
            <th scope="col">{t('portal.account.app')}</th>
            <th scope="col">
              {t('portal.account.authorized')} <span class="muted small">({t('common.utc')})</span>
            </th>
            <th scope="col">
              {t('portal.account.expires')} <span class="muted small">({t('common.utc')})</span>
            </th>
            <th scope="col">
              <span class="sr-only">{t('portal.list.actions')}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {apps.map((a) => (
            <tr>
              <th scope="row">{a.clientName}</th>
              <td>{formatTime(a.createdAt)}</td>
              <td>{formatTime(a.expiresAt)}</td>
              <td>
                <RowAction
                  page={page}
                  action={`/account/authorizations/${encodeURIComponent(a.id)}/revoke`}
                  confirm={t('portal.account.revokeConfirm', { app: a.clientName })}
                  label={t('portal.account.revoke')}
                  name={t('portal.account.revokeNamed', { app: a.clientName })}
                />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
