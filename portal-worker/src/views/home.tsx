import type { FieldError } from '../core/errors.ts';
import type { ProfileConfig } from '../domain/profile.ts';
import type { PortalConfigRow } from '../store/configs.ts';
import type { UserPageContext } from './page.ts';
import { Layout } from './layout.tsx';
import { NewConfigForm, PROTO_KEYS, type ConfigChoice, type NewConfigValues } from './portal-config-form.tsx';
import { ConfigList } from './portal-config-list.tsx';

/** Why a create was refused as a whole (not one field): shown above the form, with the list to act on. */
export type HomeAlert = 'disabled' | 'limit' | 'unavailable';

export interface HomeProps {
  page: UserPageContext;
  profiles: ProfileConfig[];
  /** Each profile's offered protocols, in its preferred order. */
  choices: ConfigChoice[];
  configs: PortalConfigRow[];
  /** MAX_ACTIVE_PORTAL_CONFIGS; 0 = the portal makes no configs. */
  max: number;
  values?: NewConfigValues;
  errors?: FieldError[];
  alert?: HomeAlert;
}

const ALERTS = {
  disabled: ['portal.disabled.title', 'portal.disabled.text'],
  limit: ['portal.limit.title', 'portal.limit.text'],
  unavailable: ['portal.unavailable.title', 'portal.unavailable.text'],
} as const;

/** Upstream's /home: the profiles the user may use, a form for a device without the app, and the configs made here. */
export function HomePage(props: HomeProps) {
  const { page, profiles, max } = props;
  const { t } = page;
  return (
    <Layout page={page} title={t('portal.home.title')}>
      <h1 id="welcome">{t('portal.home.welcome', { name: page.user.displayName ?? page.user.id })}</h1>
      {props.alert ? <Alert page={page} alert={props.alert} max={max} /> : null}
      <section aria-labelledby="profiles-heading">
        <h2 id="profiles-heading">{t('portal.profiles.heading')}</h2>
        {profiles.length === 0 ? (
          <p id="profiles-none">{t('portal.profiles.none')}</p>
        ) : (
          <ul class="cards" id="profiles">
            {profiles.map((p) => (
              <li>
                <strong>{p.display_name}</strong> <code>{p.id}</code>
                <span class="muted">
                  {' '}
                  {(['wireguard', 'openvpn'] as const)
                    .filter((proto) => p[proto])
                    .map((proto) => t(PROTO_KEYS[proto]))
                    .join(' · ')}
                </span>
              </li>
            ))}
          </ul>
        )}
        <p class="muted">{t('portal.profiles.apps')}</p>
      </section>
      {max === 0 ? (
        props.alert === 'disabled' ? null : (
          <p class="notice" id="configs-disabled">
            {t('portal.disabled.text')}
          </p>
        )
      ) : props.choices.length ? (
        <NewConfigForm page={page} choices={props.choices} count={props.configs.length} max={max} values={props.values ?? {}} errors={props.errors ?? []} />
      ) : null}
      <ConfigList page={page} configs={props.configs} profiles={profiles} />
    </Layout>
  );
}

function Alert({ page, alert, max }: { page: UserPageContext; alert: HomeAlert; max: number }) {
  const [title, text] = ALERTS[alert];
  return (
    <div class="errors" role="alert" id={`alert-${alert}`}>
      <h2>{page.t(title)}</h2>
      <p>{page.t(text, { max })}</p>
    </div>
  );
}
