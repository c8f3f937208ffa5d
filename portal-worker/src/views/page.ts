import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { translator, type Lang, type T } from '../i18n/index.ts';
import { csrfToken } from '../middleware/session.ts';
import type { CurrentUser } from '../store/users.ts';

/** What every page needs from the request: who, the CSRF token for its forms, and the language. */
export interface PageContext {
  user: CurrentUser | null;
  csrf: string;
  lang: Lang;
  t: T;
  /** Path and query of this page, so the language form can come back here. */
  path: string;
}

export async function pageContext(c: Context<AppEnv>): Promise<PageContext> {
  const url = new URL(c.req.url);
  const lang = c.var.lang ?? 'en';
  return { user: c.var.user ?? null, csrf: await csrfToken(c), lang, t: c.var.t ?? translator(lang), path: url.pathname + url.search };
}

/** A signed-in page: the type says `user` is there. */
export interface UserPageContext extends PageContext {
  user: CurrentUser;
}
