import type { ProfileConfig } from '../domain/profile.ts';
import type { CurrentUser } from '../store/users.ts';
import { Layout } from './layout.tsx';

export function HomePage(props: { user: CurrentUser; csrf: string; profiles: ProfileConfig[] }) {
  return (
    <Layout title="Home" user={props.user} csrf={props.csrf}>
      <h1>Welcome, {props.user.displayName ?? props.user.id}</h1>
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
