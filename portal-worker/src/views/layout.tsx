import type { Child } from 'hono/jsx';
import type { CurrentUser } from '../store/users.ts';

export interface LayoutProps {
  title: string;
  user?: CurrentUser | null;
  csrf?: string;
  children?: Child;
}

/** One layout for every page. No inline script or style anywhere: CSP is `default-src 'self'`. */
export function Layout({ title, user, csrf, children }: LayoutProps) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · Edgeport`}</title>
        <link rel="stylesheet" href="/static/app.css" />
      </head>
      <body>
        <header class="top">
          <a class="brand" href="/">Edgeport</a>
          {user ? (
            <nav aria-label="Main">
              <a href="/">Home</a>
              <a href="/account">Account</a>
              {user.isAdmin ? <a href="/admin/profiles">Profiles</a> : null}
              {user.isAdmin ? <a href="/admin/users">Users</a> : null}
              {user.isAdmin ? <a href="/admin/audit">Audit log</a> : null}
              <form method="post" action="/logout" class="inline">
                <input type="hidden" name="_csrf" value={csrf ?? ''} />
                <button type="submit" class="link">Sign out ({user.id})</button>
              </form>
            </nav>
          ) : null}
        </header>
        <main id="main">{children}</main>
      </body>
    </html>
  );
}

export function FieldErrors({ errors }: { errors: { path: string; message: string }[] }) {
  if (!errors.length) return null;
  return (
    <div class="errors" role="alert">
      <p>Please correct the following:</p>
      <ul>
        {errors.map((e) => (
          <li>
            {e.path ? <code>{e.path}</code> : null} {e.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
