import type { UserPageContext } from './page.ts';
import { Layout } from './layout.tsx';

export interface AuthorizedApp {
  id: string;
  clientName: string;
  createdAt: number;
  expiresAt: number;
}

export function AccountPage(props: { page: UserPageContext; apps: AuthorizedApp[] }) {
  return (
    <Layout page={props.page} title="Account">
      <h1>Account</h1>
      <p>
        User id: <code>{props.page.user.id}</code>
      </p>
      <h2>Authorized applications</h2>
      {props.apps.length === 0 ? (
        <p>No application is authorized to download VPN configurations for you.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>Application</th>
              <th>Authorized (UTC)</th>
              <th>Expires (UTC)</th>
              <th></th>
            </tr>
          </thead>
          <tbody>
            {props.apps.map((a) => (
              <tr>
                <td>{a.clientName}</td>
                <td>{new Date(a.createdAt).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>{new Date(a.expiresAt).toISOString().slice(0, 16).replace('T', ' ')}</td>
                <td>
                  <form method="post" action={`/account/authorizations/${encodeURIComponent(a.id)}/revoke`} class="inline">
                    <input type="hidden" name="_csrf" value={props.page.csrf} />
                    <button type="submit" class="danger">
                      Revoke
                    </button>
                  </form>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Layout>
  );
}
