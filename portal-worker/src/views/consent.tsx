import type { CurrentUser } from '../store/users.ts';
import { Layout } from './layout.tsx';

/** The approval page of eduvpn.md §1.2: the app gets a VPN configuration only after the user says yes. */
export function ConsentPage(props: { user: CurrentUser; csrf: string; clientName: string; clientId: string; params: Record<string, string> }) {
  return (
    <Layout title="Approve application" user={props.user} csrf={props.csrf}>
      <h1>Approve application</h1>
      <p>
        <strong>{props.clientName}</strong> (<code>{props.clientId}</code>) wants to download VPN configurations as <strong>{props.user.id}</strong>.
      </p>
      <form method="post" action="/oauth/authorize" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        {Object.entries(props.params).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" name="decision" value="approve">
          Approve
        </button>
        <button type="submit" name="decision" value="deny" class="danger">
          Deny
        </button>
      </form>
    </Layout>
  );
}
