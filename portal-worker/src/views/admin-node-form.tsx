import type { ProfileConfig } from '../domain/profile.ts';
import type { NodeView } from '../store/nodes.ts';
import type { UserPageContext } from './page.ts';

/** The raw strings of the node form, so a rejected form comes back as typed. */
export type NodeFormValues = Record<string, string>;

/**
 * Per served profile the form has `serve.<profile>` (checkbox), `host.<profile>` and the node's
 * own ranges `wg4.`, `wg6.`, `ovpn4.`, `ovpn6.<profile>`; routes/admin-node-input.ts reads them back.
 */
export function nodeToForm(n: NodeView): NodeFormValues {
  const v: NodeFormValues = { id: n.id, name: n.name, host_name: n.host_name, wg_public_key: n.wg_public_key ?? '' };
  for (const a of n.profiles) {
    v[`serve.${a.profile_id}`] = 'on';
    v[`host.${a.profile_id}`] = a.host_name ?? '';
    v[`wg4.${a.profile_id}`] = a.wireguard?.range_four ?? '';
    v[`wg6.${a.profile_id}`] = a.wireguard?.range_six ?? '';
    v[`ovpn4.${a.profile_id}`] = a.openvpn?.range_four ?? '';
    v[`ovpn6.${a.profile_id}`] = a.openvpn?.range_six ?? '';
  }
  return v;
}

function Text(props: { name: string; label: string; values: NodeFormValues; hint?: string; readonly?: boolean; required?: boolean; placeholder?: string }) {
  return (
    <label>
      {props.label}
      <input name={props.name} value={props.values[props.name] ?? ''} readonly={props.readonly} required={props.required} placeholder={props.placeholder} />
      {props.hint ? <span class="muted">{props.hint}</span> : null}
    </label>
  );
}

function ProfileAssignment({ page, profile: p, values }: { page: UserPageContext; profile: ProfileConfig; values: NodeFormValues }) {
  const { t } = page;
  return (
    <fieldset class="node-profile" data-profile={p.id}>
      <legend>
        {p.display_name} <code>{p.id}</code>
      </legend>
      <label class="check">
        <input type="checkbox" name={`serve.${p.id}`} checked={Boolean(values[`serve.${p.id}`])} />
        {t('admin-nodes.form.serve', { profile: p.id })}
      </label>
      <Text name={`host.${p.id}`} label={t('admin-nodes.form.profileHost')} values={values} hint={t('admin-nodes.form.profileHostHint')} />
      {p.wireguard ? (
        <>
          <Text name={`wg4.${p.id}`} label={t('admin-nodes.form.wg4')} values={values} placeholder={p.wireguard.range_four} />
          <Text name={`wg6.${p.id}`} label={t('admin-nodes.form.wg6')} values={values} placeholder={p.wireguard.range_six} />
        </>
      ) : null}
      {p.openvpn ? (
        <>
          <Text name={`ovpn4.${p.id}`} label={t('admin-nodes.form.ovpn4')} values={values} placeholder={p.openvpn.range_four} />
          <Text name={`ovpn6.${p.id}`} label={t('admin-nodes.form.ovpn6')} values={values} placeholder={p.openvpn.range_six} />
        </>
      ) : null}
      {p.wireguard || p.openvpn ? <p class="muted">{t('admin-nodes.form.rangesHint')}</p> : null}
    </fieldset>
  );
}

/** The fields of the add and edit forms; the caller supplies the form element and its action. */
export function NodeFields(props: { page: UserPageContext; values: NodeFormValues; profiles: ProfileConfig[]; mode: 'new' | 'edit' }) {
  const { page, values: v } = props;
  const { t } = page;
  return (
    <>
      <input type="hidden" name="_csrf" value={page.csrf} />
      <Text name="id" label={t('admin-nodes.field.id')} values={v} readonly={props.mode === 'edit'} required hint={props.mode === 'new' ? t('admin-nodes.form.idHint') : undefined} />
      <Text name="name" label={t('admin-nodes.field.name')} values={v} required />
      <Text name="host_name" label={t('admin-nodes.field.host')} values={v} required hint={t('admin-nodes.form.hostHint')} />
      <Text name="wg_public_key" label={t('admin-nodes.form.wgKey')} values={v} hint={t('admin-nodes.form.wgKeyHint')} />
      <fieldset id="node-profiles">
        <legend>{t('admin-nodes.form.profiles')}</legend>
        {props.profiles.length ? (
          props.profiles.map((p) => <ProfileAssignment page={page} profile={p} values={v} />)
        ) : (
          <p class="muted">
            {t('admin-nodes.form.noProfiles')} <a href="/admin/profiles/new">{t('admin-nodes.profiles.add')}</a>
          </p>
        )}
      </fieldset>
    </>
  );
}
