import type { FieldError } from '../errors.ts';
import type { UserView } from '../store/users.ts';
import { FieldErrors, Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

type AdminPage = { page: UserPageContext };

export function UsersPage(props: AdminPage & { users: UserView[]; errors: FieldError[] }) {
  return (
    <Layout page={props.page} title="Users" wide>
      <h1>Users</h1>
      <table>
        <thead>
          <tr>
            <th>User</th>
            <th>Role</th>
            <th>Status</th>
            <th></th>
          </tr>
        </thead>
        <tbody>
          {props.users.map((u) => (
            <tr>
              <td>{u.id}</td>
              <td>{u.isAdmin ? 'admin' : 'user'}</td>
              <td>{u.isDisabled ? 'disabled' : 'active'}</td>
              <td>
                {u.id === props.page.user.id ? null : (
                  <form method="post" action={`/admin/users/${encodeURIComponent(u.id)}/${u.isDisabled ? 'enable' : 'disable'}`} class="inline">
                    <input type="hidden" name="_csrf" value={props.page.csrf} />
                    <button type="submit" class={u.isDisabled ? '' : 'danger'}>
                      {u.isDisabled ? 'Enable' : 'Disable'}
                    </button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Add a local account</h2>
      <FieldErrors page={props.page} errors={props.errors} />
      <form method="post" action="/admin/users" class="stack">
        <input type="hidden" name="_csrf" value={props.page.csrf} />
        <label>
          User name
          <input name="id" required />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="new-password" required />
        </label>
        <label>
          Permissions
          <input name="permissions" />
        </label>
        <label class="check">
          <input type="checkbox" name="is_admin" />
          Administrator
        </label>
        <button type="submit">Add</button>
      </form>
    </Layout>
  );
}

