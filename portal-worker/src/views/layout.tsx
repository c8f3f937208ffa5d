import { raw } from 'hono/html';
import type { Child } from 'hono/jsx';
import { LANG_NAMES, LANGS, type MessageKey } from '../i18n/index.ts';
import type { PageContext } from './page.ts';

export interface LayoutProps {
  page: PageContext;
  title: string;
  /** Wider main column for tables with many columns (admin pages). */
  wide?: boolean;
  children?: Child;
}

const USER_NAV: [string, MessageKey][] = [
  ['/', 'nav.home'],
  ['/account', 'nav.account'],
];
const ADMIN_NAV: [string, MessageKey][] = [
  ['/admin/users', 'nav.users'],
  ['/admin/connections', 'nav.connections'],
  ['/admin/nodes', 'nav.nodes'],
  ['/admin/profiles', 'nav.profiles'],
  ['/admin/stats', 'nav.stats'],
  ['/admin/log', 'nav.log'],
  ['/admin/audit', 'nav.audit'],
];

function current(path: string, href: string): boolean {
  const here = path.split('?')[0] ?? '';
  return href === '/' ? here === '/' : here === href || here.startsWith(`${href}/`);
}

function NavLinks({ page, links }: { page: PageContext; links: [string, MessageKey][] }) {
  return (
    <>
      {links.map(([href, key]) => (
        <a href={href} aria-current={current(page.path, href) ? 'page' : undefined}>
          {page.t(key)}
        </a>
      ))}
    </>
  );
}

/**
 * One layout for every page. No inline script or style anywhere: CSP is `default-src 'self'`,
 * so behaviour comes from /static/app.js (data-* attributes) and looks from /static/app.css.
 */
export function Layout({ page, title, wide, children }: LayoutProps) {
  const { t, user } = page;
  // The doctype keeps browsers in standards mode: without it Chromium laid the pages out in quirks
  // mode (forms got a bottom margin, the sign-out button sat 8 px above the links).
  return (
    <>
      {raw('<!DOCTYPE html>')}
      <html lang={page.lang}>
        <head>
          <meta charset="utf-8" />
          <meta name="viewport" content="width=device-width, initial-scale=1" />
          <title>{`${title} · ${t('brand')}`}</title>
          <link rel="stylesheet" href="/static/app.css" />
          <script src="/static/app.js" defer></script>
        </head>
        <body>
          <a class="skip" href="#main">
            {t('nav.skip')}
          </a>
          <header class="top">
            <a class="brand" href="/">
              {t('brand')}
            </a>
            {user ? (
              <nav aria-label={t('nav.main')} class="main-nav">
                <NavLinks page={page} links={USER_NAV} />
                {user.isAdmin ? (
                  <span class="admin-nav" role="group" aria-label={t('nav.admin')}>
                    <NavLinks page={page} links={ADMIN_NAV} />
                  </span>
                ) : null}
                <form method="post" action="/logout" class="inline">
                  <input type="hidden" name="_csrf" value={page.csrf} />
                  <button type="submit" class="link">
                    {t('nav.signOut', { user: user.id })}
                  </button>
                </form>
              </nav>
            ) : null}
            <form method="post" action="/language" class="inline lang">
              <input type="hidden" name="_csrf" value={page.csrf} />
              <input type="hidden" name="next" value={page.path} />
              <label class="inline-label">
                <span class="sr-only">{t('lang.label')}</span>
                <select name="lang" data-autosubmit="">
                  {LANGS.map((l) => (
                    <option value={l} selected={l === page.lang}>
                      {LANG_NAMES[l]}
                    </option>
                  ))}
                </select>
              </label>
              <button type="submit" class="secondary small" data-hide-with-script="">
                {t('lang.submit')}
              </button>
            </form>
          </header>
          <main id="main" class={wide ? 'wide' : undefined}>
            {children}
          </main>
        </body>
      </html>
    </>
  );
}

export function FieldErrors({ page, errors }: { page: PageContext; errors: { path: string; message: string }[] }) {
  if (!errors.length) return null;
  return (
    <div class="errors" role="alert">
      <p>{page.t('error.correct')}</p>
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

/** A form for a state change: carries the CSRF token; `confirm` asks first (via app.js). */
export function PostForm(props: { page: PageContext; action: string; confirm?: string; class?: string; children?: Child }) {
  return (
    <form method="post" action={props.action} class={props.class ?? 'inline'} data-confirm={props.confirm}>
      <input type="hidden" name="_csrf" value={props.page.csrf} />
      {props.children}
    </form>
  );
}

/**
 * A row's destructive action: a confirmed POST with hidden fields and a small danger button whose
 * accessible name says what it acts on (a table has many buttons with the same text).
 */
export function RowAction(props: { page: PageContext; action: string; confirm: string; label: string; name: string; fields?: Record<string, string> }) {
  return (
    <PostForm page={props.page} action={props.action} confirm={props.confirm}>
      {Object.entries(props.fields ?? {}).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      <button type="submit" class="danger small" aria-label={props.name}>
        {props.label}
      </button>
    </PostForm>
  );
}

/**
 * A region that app.js re-fetches every `everyMs` from `src` (an HTML fragment made by the same
 * component), so live views follow the nodes' reports without a reload.
 */
export function LiveRegion(props: { src: string; everyMs?: number; id: string; children?: Child }) {
  return (
    <div id={props.id} data-live={props.src} data-every={String(props.everyMs ?? 2000)} aria-live="polite">
      {props.children}
    </div>
  );
}
