import { Layout } from './layout.tsx';
import type { PageContext } from './page.ts';

export function LoginPage(props: { page: PageContext; next: string; error?: string; userId?: string }) {
  const { t } = props.page;
  return (
    <Layout page={props.page} title={t('login.title')}>
      <h1>{t('login.title')}</h1>
      {props.error ? (
        <p class="errors" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_csrf" value={props.page.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label>
          {t('login.user')}
          <input name="user" autocomplete="username" required value={props.userId ?? ''} />
        </label>
        <label>
          {t('login.password')}
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit">{t('login.submit')}</button>
      </form>
    </Layout>
  );
}
