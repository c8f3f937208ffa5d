import type { FieldError } from '../core/errors.ts';
import type { UserPageContext } from './page.ts';
import { FieldErrors, Layout } from './layout.tsx';

/** Upstream's /passwd for local accounts. Fields are never refilled: passwords do not travel back. */
export function PasswordPage({ page, errors }: { page: UserPageContext; errors: FieldError[] }) {
  const { t } = page;
  return (
    <Layout page={page} title={t('portal.password.title')}>
      <h1>{t('portal.password.title')}</h1>
      <FieldErrors page={page} errors={errors} />
      <form method="post" action="/account/password" class="stack" id="password-form">
        <input type="hidden" name="_csrf" value={page.csrf} />
        {/* A hidden user name lets password managers file the new password under the right account. */}
        <input type="text" name="username" autocomplete="username" value={page.user.id} hidden readonly />
        <label>
          {t('portal.password.current')}
          <input type="password" name="current_password" id="current-password" autocomplete="current-password" required />
        </label>
        <label>
          {t('portal.password.new')}
          <input type="password" name="new_password" id="new-password" autocomplete="new-password" required maxlength={1024} aria-describedby="new-password-hint" />
          <span class="muted hint" id="new-password-hint">
            {t('portal.password.hint')}
          </span>
        </label>
        <label>
          {t('portal.password.repeat')}
          <input type="password" name="repeat_password" id="repeat-password" autocomplete="new-password" required maxlength={1024} />
        </label>
        <button type="submit" id="password-submit">
          {t('portal.password.submit')}
        </button>
      </form>
    </Layout>
  );
}
