import type { ProfileConfig } from '../domain/profile.ts';
import type { FieldError } from '../errors.ts';
import { FieldErrors, Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

type AdminPage = { page: UserPageContext };

export function ProfilesPage(props: AdminPage & { profiles: ProfileConfig[] }) {
  return (
    <Layout page={props.page} title="Profiles" wide>
      <h1>Profiles</h1>
      <p>
        <a href="/admin/profiles/new">Add a profile</a>
      </p>
      <table>
        <thead>
          <tr>
            <th>Id</th>
            <th>Name</th>
            <th>Host</th>
            <th>WireGuard</th>
            <th>OpenVPN</th>
            <th>Access</th>
          </tr>
        </thead>
        <tbody>
          {props.profiles.map((p) => (
            <tr>
              <td>
                <a href={`/admin/profiles/${encodeURIComponent(p.id)}`}>{p.id}</a>
              </td>
              <td>{p.display_name}</td>
              <td>{p.host_name}</td>
              <td>{p.wireguard ? `${p.wireguard.range_four}, ${p.wireguard.range_six}` : '—'}</td>
              <td>{p.openvpn ? `${p.openvpn.range_four}, ${p.openvpn.range_six}` : '—'}</td>
              <td>{p.acl_permissions ? p.acl_permissions.join(', ') : 'everyone'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Layout>
  );
}

/** Form values are the raw strings the admin typed, so a rejected form comes back as typed. */
export type ProfileFormValues = Record<string, string>;

export function profileToForm(p: ProfileConfig): ProfileFormValues {
  return {
    id: p.id,
    display_name: p.display_name,
    host_name: p.host_name,
    default_gateway: p.default_gateway ? 'on' : '',
    dns_servers: p.dns_servers.join(', '),
    dns_search_domains: p.dns_search_domains.join(', '),
    routes: p.routes.join(', '),
    exclude_routes: p.exclude_routes.join(', '),
    acl_permissions: p.acl_permissions?.join(', ') ?? '',
    wg_enabled: p.wireguard ? 'on' : '',
    wg_range_four: p.wireguard?.range_four ?? '',
    wg_range_six: p.wireguard?.range_six ?? '',
    wg_port: String(p.wireguard?.port ?? 51820),
    ovpn_enabled: p.openvpn ? 'on' : '',
    ovpn_range_four: p.openvpn?.range_four ?? '',
    ovpn_range_six: p.openvpn?.range_six ?? '',
    ovpn_udp_ports: p.openvpn?.udp_ports.join(', ') ?? '1194',
    ovpn_tcp_ports: p.openvpn?.tcp_ports.join(', ') ?? '1194',
    preferred_proto: p.preferred_proto,
  };
}

function Text(props: { name: string; label: string; values: ProfileFormValues; hint?: string; readonly?: boolean }) {
  return (
    <label>
      {props.label}
      <input name={props.name} value={props.values[props.name] ?? ''} readonly={props.readonly} />
      {props.hint ? <span class="muted">{props.hint}</span> : null}
    </label>
  );
}

function Check(props: { name: string; label: string; values: ProfileFormValues }) {
  return (
    <label class="check">
      <input type="checkbox" name={props.name} checked={Boolean(props.values[props.name])} />
      {props.label}
    </label>
  );
}

export function ProfileFormPage(props: AdminPage & { mode: 'new' | 'edit'; values: ProfileFormValues; errors: FieldError[] }) {
  const v = props.values;
  const action = props.mode === 'new' ? '/admin/profiles' : `/admin/profiles/${encodeURIComponent(v.id ?? '')}`;
  return (
    <Layout page={props.page} title={props.mode === 'new' ? 'New profile' : `Profile ${v.id}`} wide>
      <h1>{props.mode === 'new' ? 'New profile' : `Profile ${v.id}`}</h1>
      <FieldErrors page={props.page} errors={props.errors} />
      <form method="post" action={action} class="stack">
        <input type="hidden" name="_csrf" value={props.page.csrf} />
        <Text name="id" label="Id" values={v} readonly={props.mode === 'edit'} />
        <Text name="display_name" label="Display name" values={v} />
        <Text name="host_name" label="Host name" values={v} />
        <Check name="default_gateway" label="Route all traffic through the VPN (default gateway)" values={v} />
        <Text name="dns_servers" label="DNS servers" values={v} hint="comma-separated; @GW4@ / @GW6@ mean the node's own address" />
        <Text name="dns_search_domains" label="DNS search domains" values={v} />
        <Text name="routes" label="Routes" values={v} hint="comma-separated prefixes" />
        <Text name="exclude_routes" label="Exclude routes" values={v} />
        <Text name="acl_permissions" label="Permissions that may use it" values={v} hint="empty: everyone" />
        <fieldset>
          <legend>WireGuard</legend>
          <Check name="wg_enabled" label="Enabled" values={v} />
          <Text name="wg_range_four" label="IPv4 range" values={v} />
          <Text name="wg_range_six" label="IPv6 range" values={v} />
          <Text name="wg_port" label="Port" values={v} />
        </fieldset>
        <fieldset>
          <legend>OpenVPN</legend>
          <Check name="ovpn_enabled" label="Enabled" values={v} />
          <Text name="ovpn_range_four" label="IPv4 range" values={v} />
          <Text name="ovpn_range_six" label="IPv6 range" values={v} />
          <Text name="ovpn_udp_ports" label="UDP ports" values={v} />
          <Text name="ovpn_tcp_ports" label="TCP ports" values={v} hint="UDP plus TCP ports: 1, 2, 4, 8, 16, 32 or 64" />
        </fieldset>
        <label>
          Preferred protocol
          <select name="preferred_proto">
            <option value="openvpn" selected={v.preferred_proto !== 'wireguard'}>
              OpenVPN
            </option>
            <option value="wireguard" selected={v.preferred_proto === 'wireguard'}>
              WireGuard
            </option>
          </select>
        </label>
        <button type="submit">Save</button>
      </form>
      {props.mode === 'edit' ? (
        <form method="post" action={`${action}/delete`} class="stack">
          <input type="hidden" name="_csrf" value={props.page.csrf} />
          <button type="submit" class="danger">
            Delete this profile
          </button>
        </form>
      ) : null}
    </Layout>
  );
}

