import { FieldErrors, Layout } from './layout.tsx';

export function ErrorPage(props: { title: string; detail: string; fields: { path: string; message: string }[]; requestId: string }) {
  return (
    <Layout title={props.title}>
      <h1>{props.title}</h1>
      <p>{props.detail}</p>
      <FieldErrors errors={props.fields} />
      <p class="muted">
        Request id: <code>{props.requestId}</code>
      </p>
      <p>
        <a href="/">Back to the start page</a>
      </p>
    </Layout>
  );
}
