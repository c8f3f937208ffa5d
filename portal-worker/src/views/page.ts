import type { Lang, T } from '../i18n/index.ts';
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

/** A signed-in page: the type says `user` is there. */
export interface UserPageContext extends PageContext {
  user: CurrentUser;
}
