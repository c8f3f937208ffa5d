import type { Config } from './config/config.ts';
import type { Bindings } from './bindings.ts';
import type { Db } from './core/db.ts';
import type { NodeNotifier } from './core/node-door.ts';
import type { ApiAuth } from './core/api-auth.ts';
import type { CurrentUser } from './store/users.ts';
import type { Lang, T } from './i18n/index.ts';

/** Which error rendering a route's audience reads (docs/conventions.md §4). */
export type Audience = 'html' | 'problem' | 'oauth' | 'vpn-api';

export interface Variables {
  config: Config;
  requestId: string;
  audience: Audience;
  db: Db;
  user: CurrentUser | null;
  /** The secret the CSRF token is bound to: the session cookie, or the pre-session cookie. */
  csrfSecret: string | null;
  sessionSecret: string | null;
  /** Where node-visible changes are announced (core/node-door.ts; the door itself is domain/node-door.ts). */
  notifier: NodeNotifier;
  /** The page language (cookie `L`, else Accept-Language) and its translator. */
  lang: Lang;
  t: T;
  /** One more CSP form-action source for this response: where the consent form's answer redirects. */
  formActionSource?: string;
  /** Set by the bearer middleware on /api/v3. */
  apiAuth: ApiAuth;
}

export interface AppEnv {
  Bindings: Bindings;
  Variables: Variables;
}
