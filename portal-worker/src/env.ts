import type { Config } from './config.ts';
import type { LoginThrottle } from './throttle/login-throttle.ts';
import type { NodeChannel } from './channel/node-channel.ts';
import type { Db } from './db/types.ts';
import type { NodeNotifier } from './domain/node-door.ts';
import type { ApiAuth } from './oauth/bearer.ts';
import type { CurrentUser } from './store/users.ts';
import type { Lang, T } from './i18n/index.ts';

/** Raw bindings as wrangler.toml and secrets provide them. Handlers read `c.var.config`, never these. */
export interface Bindings {
  DB?: D1Database;
  THROTTLE: DurableObjectNamespace<LoginThrottle>;
  NODE_CHANNEL: DurableObjectNamespace<NodeChannel>;
  DB_DRIVER?: string;
  DATABASE_URL?: string;
  SESSION_IDLE_MINUTES?: string;
  SESSION_MAX_MINUTES?: string;
  SETUP_TOKEN?: string;
  LOGIN_MAX_FAILURES_ACCOUNT?: string;
  LOGIN_MAX_FAILURES_IP?: string;
  LOGIN_WINDOW_MINUTES?: string;
  OAUTH_SIGNING_KEY?: string;
  AUTHORIZATION_DAYS?: string;
  ACCESS_TOKEN_MINUTES?: string;
  VPN_CA_CERT?: string;
  VPN_CA_KEY?: string;
  MAX_ACTIVE_API_CONFIGS?: string;
  MAX_ACTIVE_PORTAL_CONFIGS?: string;
  NODE_ACK_TIMEOUT_MS?: string;
  NODE_HEALTHY_SECONDS?: string;
  /** JSON array of OpenID providers (sso/config.ts); each one's client secret is a secret of its own. */
  OIDC_PROVIDERS?: string;
  LOCAL_LOGIN?: string;
  SSO_RECHECK_ON_CONNECT?: string;
  SSO_PERMISSIONS_MAX_AGE_MINUTES?: string;
  [clientSecret: `OIDC_CLIENT_SECRET_${string}`]: string | undefined;
}

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
  /** Where node-visible changes are announced (domain/node-door.ts). */
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
