import type { ProfileConfig } from '../domain/profile.ts';
import type { UserPageContext } from './page.ts';

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

/** The fields of the profile form (names as routes/admin-forms.ts reads them); the CSRF field included. */
export function ProfileFields({ page, values: v, mode }: { page: UserPageContext; values: ProfileFormValues; mode: 'new' | 'edit' }) {
  const { t } = page;
  return (
    <>
      <input type="hidden" name="_csrf" value={page.csrf} />
      <Text name="id" label={t('admin-nodes.profiles.field.id')} values={v} readonly={mode === 'edit'} hint={mode === 'new' ? t('admin-nodes.form.idHint') : undefined} />
      <Text name="display_name" label={t('admin-nodes.profiles.field.name')} values={v} />
      <Text name="host_name" label={t('admin-nodes.profiles.field.host')} values={v} />
      <Check name="default_gateway" label={t('admin-nodes.profiles.field.defaultGateway')} values={v} />
      <Text name="dns_servers" label={t('admin-nodes.profiles.field.dns')} values={v} hint={t('admin-nodes.profiles.hint.dns')} />
      <Text name="dns_search_domains" label={t('admin-nodes.profiles.field.searchDomains')} values={v} hint={t('admin-nodes.profiles.hint.list')} />
      <Text name="routes" label={t('admin-nodes.profiles.field.routes')} values={v} hint={t('admin-nodes.profiles.hint.prefixes')} />
      <Text name="exclude_routes" label={t('admin-nodes.profiles.field.excludeRoutes')} values={v} hint={t('admin-nodes.profiles.hint.prefixes')} />
      <Text name="acl_permissions" label={t('admin-nodes.profiles.field.acl')} values={v} hint={t('admin-nodes.profiles.hint.acl')} />
      <fieldset>
        <legend>WireGuard</legend>
        <Check name="wg_enabled" label={t('admin-nodes.profiles.field.wgEnabled')} values={v} />
        <Text name="wg_range_four" label={t('admin-nodes.profiles.field.wg4')} values={v} />
        <Text name="wg_range_six" label={t('admin-nodes.profiles.field.wg6')} values={v} />
        <Text name="wg_port" label={t('admin-nodes.profiles.field.wgPort')} values={v} hint={t('admin-nodes.profiles.hint.wgPort')} />
      </fieldset>
      <fieldset>
        <legend>OpenVPN</legend>
        <Check name="ovpn_enabled" label={t('admin-nodes.profiles.field.ovpnEnabled')} values={v} />
        <Text name="ovpn_range_four" label={t('admin-nodes.profiles.field.ovpn4')} values={v} />
        <Text name="ovpn_range_six" label={t('admin-nodes.profiles.field.ovpn6')} values={v} />
        <Text name="ovpn_udp_ports" label={t('admin-nodes.profiles.field.udpPorts')} values={v} hint={t('admin-nodes.profiles.hint.list')} />
        <Text name="ovpn_tcp_ports" label={t('admin-nodes.profiles.field.tcpPorts')} values={v} hint={t('admin-nodes.profiles.hint.ports')} />
      </fieldset>
      <label>
        {t('admin-nodes.profiles.field.preferred')}
        <select name="preferred_proto">
          <option value="openvpn" selected={v.preferred_proto !== 'wireguard'}>
            OpenVPN
          </option>
          <option value="wireguard" selected={v.preferred_proto === 'wireguard'}>
            WireGuard
          </option>
        </select>
      </label>
    </>
  );
}
