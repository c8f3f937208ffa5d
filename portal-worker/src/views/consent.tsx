import { Layout } from './layout.tsx';
import type { UserPageContext } from './page.ts';

/** The approval page of docs/eduvpn.md §1.2: the app gets a VPN configuration only after the user says yes. */
export function ConsentPage(props: { page: UserPageContext; clientName: string; clientId: string; params: Record<string, string> }) {
  const { t, user } = props.page;
  return (
    <Layout page={props.page} title={t('consent.title')}>
      <h1>{t('consent.title')}</h1>
      <p>{t('consent.text', { client: props.clientName, clientId: props.clientId, user: user.id })}</p>
      <form method="post" action="/oauth/authorize" class="stack">
        <input type="hidden" name="_csrf" value={props.page.csrf} />
        {Object.entries(props.params).map(([name, value]) => (
          <input type="hidden" name={name} value={value} />
        ))}
        <button type="submit" name="decision" value="approve">
          {t('consent.approve')}
        </button>
        <button type="submit" name="decision" value="deny" class="danger">
          {t('consent.deny')}
        </button>
      </form>
    </Layout>
  );
}
