import { FieldErrors, Layout } from './layout.tsx';
import type { PageContext } from './page.ts';

export function ErrorPage(props: { page: PageContext; title: string; detail: string; fields: { path: string; message: string }[]; requestId: string }) {
  const { t } = props.page;
  return (
    <Layout page={props.page} title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.detail}</p>
      <FieldErrors page={props.page} errors={props.fields} />
      <p class="muted">
        {t('error.requestId')}: <code>{props.requestId}</code>
      </p>
      <p>
        <a href="/">{t('error.back')}</a>
      </p>
    </Layout>
  );
}
