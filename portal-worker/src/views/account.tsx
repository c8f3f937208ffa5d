import type { CurrentUser } from '../store/users.ts';
import { Layout } from './layout.tsx';

export interface AuthorizedApp {
  id: string;
  clientName: string;
  createdAt: number;
  expiresAt: number;
}

export function AccountPage(props: { user: CurrentUser; csrf: string; apps: AuthorizedApp[] }) {
  return (
    <Layout title="Account" user={props.user} csrf={props.csrf}>
      <h1>Account</h1>
      <p>
        User id: <code>{props.user.id}</code>
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
                    <input type="hidden" name="_csrf" value={props.csrf} />
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
