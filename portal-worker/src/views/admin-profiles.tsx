import type { ProfileConfig } from '../domain/profile.ts';
import type { FieldError } from '../core/errors.ts';
import type { NodeUsage } from '../domain/address-usage.ts';
import { ProfileFields, type ProfileFormValues } from './admin-profile-form.tsx';
import { FreeAddresses, ServedBy, ServingNodesTable, UsageExplained } from './admin-profile-usage.tsx';
import { FieldErrors, Layout, PostForm } from './layout.tsx';
import type { UserPageContext } from './page.ts';

export { profileToForm, type ProfileFormValues } from './admin-profile-form.tsx';

type AdminPage = { page: UserPageContext };

const profileHref = (id: string) => `/admin/profiles/${encodeURIComponent(id)}`;

export function ProfilesPage(props: AdminPage & { profiles: ProfileConfig[]; usage: Map<string, NodeUsage[]> }) {
  const { t } = props.page;
  return (
    <Layout page={props.page} title={t('admin-nodes.profiles.title')} wide>
      <h1>{t('admin-nodes.profiles.title')}</h1>
      <p>
        <a href="/admin/profiles/new" id="add-profile">
          {t('admin-nodes.profiles.add')}
        </a>
      </p>
      {props.profiles.length ? (
        <div class="table-wrap">
          <table id="profiles-table">
            <caption class="sr-only">{t('admin-nodes.profiles.title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('admin-nodes.profiles.field.id')}</th>
                <th scope="col">{t('admin-nodes.profiles.field.name')}</th>
                <th scope="col">{t('admin-nodes.profiles.field.host')}</th>
                <th scope="col">WireGuard</th>
                <th scope="col">OpenVPN</th>
                <th scope="col">{t('admin-nodes.profiles.col.access')}</th>
                <th scope="col">{t('admin-nodes.profiles.col.servedBy')}</th>
                <th scope="col">{t('admin-nodes.profiles.col.free')}</th>
              </tr>
            </thead>
            <tbody>
              {props.profiles.map((p) => {
                const usage = props.usage.get(p.id) ?? [];
                return (
                  <tr id={`profile-row-${p.id}`} data-profile={p.id}>
                    <th scope="row">
                      <a href={profileHref(p.id)}>{p.id}</a>
                    </th>
                    <td>{p.display_name}</td>
                    <td>{p.host_name}</td>
                    <td>{p.wireguard ? `${p.wireguard.range_four}, ${p.wireguard.range_six}` : t('common.none')}</td>
                    <td>{p.openvpn ? `${p.openvpn.range_four}, ${p.openvpn.range_six}` : t('common.none')}</td>
                    <td>{p.acl_permissions ? p.acl_permissions.join(', ') : t('admin-nodes.profiles.everyone')}</td>
                    <td class="served-by">
                      <ServedBy t={t} usage={usage} />
                    </td>
                    <td class="free-addresses">
                      <FreeAddresses t={t} usage={usage} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : (
        <p class="muted">{t('admin-nodes.profiles.empty')}</p>
      )}
      <UsageExplained t={t} />
    </Layout>
  );
}

export function ProfileFormPage(props: AdminPage & { mode: 'new' | 'edit'; values: ProfileFormValues; errors: FieldError[]; usage?: NodeUsage[] }) {
  const { t } = props.page;
  const v = props.values;
  const action = props.mode === 'new' ? '/admin/profiles' : profileHref(v.id ?? '');
  const title = props.mode === 'new' ? t('admin-nodes.profiles.new') : t('admin-nodes.profiles.edit', { id: v.id ?? '' });
  return (
    <Layout page={props.page} title={title} wide>
      <p>
        <a href="/admin/profiles">{t('admin-nodes.profiles.back')}</a>
      </p>
      <h1>{title}</h1>
      <FieldErrors page={props.page} errors={props.errors} />
      <form method="post" action={action} class="stack" id="profile-form" aria-labelledby="profile-form-title">
        <h2 id="profile-form-title" class="sr-only">
          {title}
        </h2>
        <ProfileFields page={props.page} values={v} mode={props.mode} />
        <button type="submit">{t('common.save')}</button>
      </form>
      {props.mode === 'edit' ? (
        <>
          <h2 id="serving-nodes-title">{t('admin-nodes.profiles.servingTitle')}</h2>
          <ServingNodesTable t={t} usage={props.usage ?? []} />
          <UsageExplained t={t} />
          <h2 id="profile-danger">{t('admin-nodes.danger.title')}</h2>
          <PostForm page={props.page} action={`${action}/delete`} confirm={t('admin-nodes.profiles.deleteConfirm', { id: v.id ?? '' })} class="stack">
            <p class="muted">{t('admin-nodes.profiles.deleteIntro')}</p>
            <button type="submit" class="danger" id="delete-profile">
              {t('admin-nodes.profiles.delete')}
            </button>
          </PostForm>
        </>
      ) : null}
    </Layout>
  );
}
