import { formatTime } from '../i18n/index.ts';
import type { ProfileConfig } from '../domain/profile.ts';
import type { PortalConfigRow } from '../store/configs.ts';
import type { UserPageContext } from './page.ts';
import { RowAction } from './layout.tsx';
import { PROTO_KEYS } from './portal-config-form.tsx';

/** The user's own portal configs with a Delete button each (app configs are managed under Account). */
export function ConfigList(props: { page: UserPageContext; configs: PortalConfigRow[]; profiles: ProfileConfig[] }) {
  const { page } = props;
  const { t } = page;
  const names = new Map(props.profiles.map((p) => [p.id, p.display_name]));
  return (
    <section aria-labelledby="configs-heading">
      <h2 id="configs-heading">{t('portal.list.heading')}</h2>
      {props.configs.length === 0 ? (
        <p id="configs-none">{t('portal.list.none')}</p>
      ) : (
        <div class="table-wrap">
          <table id="configs">
            <caption class="sr-only">
              {t('portal.list.heading')} ({t('common.utc')})
            </caption>
            <thead>
              <tr>
                <th scope="col">{t('portal.list.name')}</th>
                <th scope="col">{t('portal.list.profile')}</th>
                <th scope="col">{t('portal.list.protocol')}</th>
                <th scope="col">{t('portal.list.created')}</th>
                <th scope="col">{t('portal.list.expires')}</th>
                <th scope="col">{t('portal.list.actions')}</th>
              </tr>
            </thead>
            <tbody>
              {props.configs.map((c) => (
                <tr>
                  <th scope="row">{c.name}</th>
                  <td>{names.get(c.profileId) ?? c.profileId}</td>
                  <td>{t(PROTO_KEYS[c.kind])}</td>
                  <td>{formatTime(c.createdAt)}</td>
                  <td>{formatTime(c.expiresAt)}</td>
                  <td>
                    <RowAction
                      page={page}
                      action="/configs/delete"
                      confirm={t('portal.list.confirm', { name: c.name })}
                      fields={{ kind: c.kind, id: c.id }}
                      label={t('portal.list.delete')}
                      name={t('portal.list.deleteNamed', { name: c.name })}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
