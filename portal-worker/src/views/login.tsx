import { Layout } from './layout.tsx';

export function LoginPage(props: { csrf: string; next: string; error?: string; userId?: string }) {
  return (
    <Layout title="Sign in">
      <h1>Sign in</h1>
      {props.error ? (
        <p class="errors" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/login" class="stack">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <input type="hidden" name="next" value={props.next} />
        <label>
          User name
          <input name="user" autocomplete="username" required value={props.userId ?? ''} />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" required />
        </label>
        <button type="submit">Sign in</button>
      </form>
    </Layout>
  );
}
