import { Layout } from './layout.tsx';
import type { PageContext } from './page.ts';

export interface LoginProvider {
  id: string;
  name: string;
}

export interface LoginPageProps {
  page: PageContext;
  next: string;
  /** The OpenID providers, one button each; the password form only when `localLogin`. */
  providers: LoginProvider[];
  localLogin: boolean;
  error?: string;
  userId?: string;
}

export function LoginPage(props: LoginPageProps) {
  const { t } = props.page;
  const { providers, localLogin } = props;
  return (
    <Layout page={props.page} title={t('login.title')}>
      <h1>{t('login.title')}</h1>
      {props.error ? (
        <p class="errors" role="alert" id="login-error">
          {props.error}
        </p>
      ) : null}
      {providers.length ? <Providers {...props} /> : null}
      {localLogin ? (
        <>
          {providers.length ? <h2 id="local-login">{t('sso.orLocal')}</h2> : null}
          <form method="post" action="/login" class="stack" id="local-login-form">
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
        </>
      ) : null}
    </Layout>
  );
}

/** One small form per provider: the start is a POST, so it carries the CSRF token like every form. */
function Providers({ page, next, providers }: LoginPageProps) {
  const { t } = page;
  return (
    <section aria-labelledby="sso-title" id="sso-providers">
      <h2 id="sso-title" class="sr-only">
        {t('sso.providers')}
      </h2>
      <div class="stack">
        {providers.map((p) => (
          <form method="post" action={`/sso/${p.id}/start`} class="stack">
            <input type="hidden" name="_csrf" value={page.csrf} />
            <input type="hidden" name="next" value={next} />
            <button type="submit" id={`sso-${p.id}`}>
              {t('sso.signInWith', { name: p.name })}
            </button>
          </form>
        ))}
      </div>
    </section>
  );
}
