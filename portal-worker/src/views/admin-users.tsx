import type { FieldError } from '../core/errors.ts';
import { formatTime } from '../i18n/index.ts';
import { USER_STATUS_FILTERS, type UserListRow, type UserStatusFilter } from '../store/users.ts';
import { FieldErrors, Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';
import { RoleBadge, StatusBadge, userHref } from './admin-user-parts.tsx';

export interface NewUserValues {
  id?: string;
  display_name?: string;
  permissions?: string;
  is_admin?: string;
}

export interface UsersPageProps {
  page: UserPageContext;
  filter: { q: string; status: UserStatusFilter };
  users: UserListRow[];
  more: boolean;
  values: NewUserValues;
  errors: FieldError[];
}

const FILTER_KEYS = {
  all: 'admin-users.filter.all',
  active: 'admin-users.filter.active',
  disabled: 'admin-users.filter.disabled',
  admins: 'admin-users.filter.admins',
} as const;

/** Upstream's /users: every account with a search, a status filter and a link to its page. */
export function UsersPage(props: UsersPageProps) {
  const { page, filter } = props;
  const { t } = page;
  return (
    <Layout page={page} title={t('admin-users.title')} wide>
      <h1>{t('admin-users.title')}</h1>
      <form method="get" action="/admin/users" class="toolbar" role="search" id="user-search">
        <label>
          {t('admin-users.search.label')}
          <input type="search" name="q" id="users-q" value={filter.q} />
        </label>
        <label>
          {t('admin-users.filter.label')}
          <select name="status" id="users-status">
            {USER_STATUS_FILTERS.map((s) => (
              <option value={s} selected={s === filter.status}>
                {t(FILTER_KEYS[s])}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{t('common.search')}</button>
      </form>
      <p class="muted" id="users-count" role="status">
        {props.more ? t('admin-users.count.more', { n: props.users.length }) : t('admin-users.count', { n: props.users.length })}
      </p>
      {props.users.length ? <UsersTable page={page} users={props.users} /> : <p id="users-empty">{t('admin-users.empty')}</p>}
      <NewUserForm page={page} values={props.values} errors={props.errors} />
    </Layout>
  );
}

function UsersTable({ page, users }: { page: UserPageContext; users: UserListRow[] }) {
  const { t } = page;
  return (
    <div class="table-wrap">
      <table id="users-table">
        <caption class="sr-only">{t('admin-users.title')}</caption>
        <thead>
          <tr>
            <th scope="col">{t('admin-users.col.id')}</th>
            <th scope="col">{t('admin-users.col.name')}</th>
            <th scope="col">{t('admin-users.col.role')}</th>
            <th scope="col">{t('admin-users.col.status')}</th>
            <th scope="col">{t('admin-users.col.lastSeen')}</th>
            <th scope="col">{t('admin-users.col.configs')}</th>
          </tr>
        </thead>
        <tbody>
          {users.map((u) => (
            <tr data-user={u.id}>
              <th scope="row">
                <a href={userHref(u.id)}>{u.id}</a>
              </th>
              <td>{u.displayName ?? t('common.none')}</td>
              <td>
                <RoleBadge page={page} admin={u.isAdmin} />
              </td>
              <td>
                <StatusBadge page={page} disabled={u.isDisabled} />
              </td>
              <td>{formatTime(u.lastSeenAt)}</td>
              <td>{u.configs}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function NewUserForm({ page, values, errors }: { page: UserPageContext; values: NewUserValues; errors: FieldError[] }) {
  const { t } = page;
  return (
    <section aria-labelledby="add-user">
      <h2 id="add-user">{t('admin-users.add.title')}</h2>
      <FieldErrors page={page} errors={errors} />
      <form method="post" action="/admin/users" class="stack" id="add-user-form">
        <input type="hidden" name="_csrf" value={page.csrf} />
        <label>
          {t('admin-users.add.id')}
          <input name="id" required autocomplete="off" value={values.id ?? ''} />
        </label>
        <label>
          {t('admin-users.add.displayName')}
          <input name="display_name" autocomplete="off" value={values.display_name ?? ''} />
        </label>
        <label>
          {t('admin-users.add.password')}
          <input name="password" type="password" autocomplete="new-password" required />
        </label>
        <label>
          {t('admin-users.add.permissions')}
          <input name="permissions" aria-describedby="add-user-permissions-help" value={values.permissions ?? ''} />
        </label>
        <p class="muted small" id="add-user-permissions-help">
          {t('admin-users.add.permissionsHelp')}
        </p>
        <label class="check">
          <input type="checkbox" name="is_admin" checked={Boolean(values.is_admin)} />
          {t('admin-users.add.admin')}
        </label>
        <button type="submit">{t('admin-users.add.submit')}</button>
      </form>
    </section>
  );
}
