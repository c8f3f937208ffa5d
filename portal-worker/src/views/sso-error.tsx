import type { SsoCode } from '../core/sso-errors.ts';
import { Layout } from './layout.tsx';
import type { PageContext } from './page.ts';

/**
 * A failed single sign-on: the explanation for its code, in the page's language. The code sits
 * in `data-code` so that tests and support staff read the same stable value in every language.
 */
export function SsoErrorPage(props: { page: PageContext; code: SsoCode; requestId: string }) {
  const { t } = props.page;
  return (
    <Layout page={props.page} title={t('sso.error.title')}>
      <h1>{t('sso.error.title')}</h1>
      <p id="sso-error" data-code={props.code} role="alert">
        {t(`sso.error.${props.code}`)}
      </p>
      <p class="muted">
        {t('error.requestId')}: <code>{props.requestId}</code>
      </p>
      <p>
        <a href="/login">{t('sso.error.again')}</a>
      </p>
    </Layout>
  );
}
