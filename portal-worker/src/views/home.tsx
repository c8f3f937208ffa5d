import type { ProfileConfig } from '../domain/profile.ts';
import type { UserPageContext } from './page.ts';
import { Layout } from './layout.tsx';

export function HomePage(props: { page: UserPageContext; profiles: ProfileConfig[] }) {
  return (
    <Layout page={props.page} title="Home">
      <h1>Welcome, {props.page.user.displayName ?? props.page.user.id}</h1>
      <h2>Your VPN profiles</h2>
      {props.profiles.length === 0 ? (
        <p>No profiles are available to you yet.</p>
      ) : (
        <ul class="cards">
          {props.profiles.map((p) => (
            <li>
              <strong>{p.display_name}</strong> <code>{p.id}</code>
              <span class="muted"> {[p.wireguard ? 'WireGuard' : null, p.openvpn ? 'OpenVPN' : null].filter(Boolean).join(' · ')}</span>
            </li>
          ))}
        </ul>
      )}
      <p class="muted">Use the eduVPN or Let's Connect! app with this server's address to connect.</p>
    </Layout>
  );
}
