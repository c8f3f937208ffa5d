import type { FieldError } from '../core/errors.ts';
import type { VpnProto } from '../domain/protocol.ts';
import type { UserPageContext } from './page.ts';
import { FieldErrors } from './layout.tsx';

/** What the user typed, so a refused form comes back filled in. */
export interface NewConfigValues {
  display_name?: string;
  profile?: string;
  prefer_tcp?: string;
}

/** One entry of the profile-and-protocol select: `value` is "profile_id:proto". */
export interface ConfigChoice {
  value: string;
  profileName: string;
  proto: VpnProto;
}

export const PROTO_KEYS = { wireguard: 'portal.proto.wireguard', openvpn: 'portal.proto.openvpn' } as const;

/**
 * One select of "profile — protocol" pairs, so that without script the list can only offer the
 * protocols each profile has (the server checks again).
 */
export function NewConfigForm(props: { page: UserPageContext; choices: ConfigChoice[]; count: number; max: number; values: NewConfigValues; errors: FieldError[] }) {
  const { page, values } = props;
  const { t } = page;
  return (
    <section aria-labelledby="new-config-heading">
      <h2 id="new-config-heading">{t('portal.new.heading')}</h2>
      <p>{t('portal.new.intro')}</p>
      <p class="muted" id="config-usage">
        {t('portal.new.usage', { count: props.count, max: props.max })}
      </p>
      <FieldErrors page={page} errors={props.errors} />
      <form method="post" action="/configs" class="stack" id="new-config">
        <input type="hidden" name="_csrf" value={page.csrf} />
        <label>
          {t('portal.new.name')}
          <input name="display_name" id="config-name" required maxlength={64} autocomplete="off" value={values.display_name ?? ''} aria-describedby="config-name-hint" />
          <span class="muted hint" id="config-name-hint">
            {t('portal.new.nameHint')}
          </span>
        </label>
        <label>
          {t('portal.new.profile')}
          <select name="profile" id="config-profile" required>
            {props.choices.map((c) => (
              <option value={c.value} selected={c.value === values.profile}>
                {t('portal.new.option', { profile: c.profileName, proto: t(PROTO_KEYS[c.proto]) })}
              </option>
            ))}
          </select>
        </label>
        <label class="check">
          <input type="checkbox" name="prefer_tcp" id="config-prefer-tcp" value="yes" checked={values.prefer_tcp === 'yes'} />
          {t('portal.new.preferTcp')}
        </label>
        <p class="muted hint">{t('portal.new.ovpnNote')}</p>
        <button type="submit" id="config-create">
          {t('portal.new.submit')}
        </button>
      </form>
    </section>
  );
}
