import { z } from 'zod';
import { parseSsoConfig, type SsoConfig } from './sso.ts';

const minutes = (def: number, max: number) => z.coerce.number().int().min(1).max(max).default(def);

const ConfigSchema = z
  .object({
    DB_DRIVER: z.enum(['d1', 'planetscale']).default('d1'),
    DATABASE_URL: z.string().url().optional(),
    SESSION_IDLE_MINUTES: minutes(30, 24 * 60),
    SESSION_MAX_MINUTES: minutes(12 * 60, 30 * 24 * 60),
    SETUP_TOKEN: z.string().min(16).optional(),
    LOGIN_MAX_FAILURES_ACCOUNT: z.coerce.number().int().min(1).max(1000).default(5),
    LOGIN_MAX_FAILURES_IP: z.coerce.number().int().min(1).max(100_000).default(20),
    LOGIN_WINDOW_MINUTES: minutes(15, 24 * 60),
    OAUTH_SIGNING_KEY: z.string().min(32).optional(),
    AUTHORIZATION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    ACCESS_TOKEN_MINUTES: minutes(60, 24 * 60),
    VPN_CA_CERT: z.string().min(32).optional(),
    VPN_CA_KEY: z.string().min(32).optional(),
    MAX_ACTIVE_API_CONFIGS: z.coerce.number().int().min(0).max(100).default(3),
    MAX_ACTIVE_PORTAL_CONFIGS: z.coerce.number().int().min(0).max(100).default(3),
    NODE_ACK_TIMEOUT_MS: z.coerce.number().int().min(50).max(30_000).default(2000),
    NODE_HEALTHY_SECONDS: z.coerce.number().int().min(5).max(3600).default(45),
  })
  .refine((c) => c.DB_DRIVER !== 'planetscale' || c.DATABASE_URL, {
    message: 'DB_DRIVER=planetscale needs the DATABASE_URL secret',
    path: ['DATABASE_URL'],
  });

export interface Config {
  dbDriver: 'd1' | 'planetscale';
  databaseUrl: string | undefined;
  sessionIdleMs: number;
  sessionMaxMs: number;
  setupToken: string | undefined;
  login: { maxFailuresAccount: number; maxFailuresIp: number; windowMs: number };
  oauth: { signingKey: string | undefined; authorizationMs: number; accessTokenMs: number };
  /** Per user: app configs (oldest evicted beyond the limit) and browser-made configs (refused beyond it); 0 disables. */
  vpn: { caCert: string | undefined; caKey: string | undefined; maxActiveApiConfigs: number; maxActivePortalConfigs: number };
  /** How long /connect waits for the node's ack, and how recent a node's last word must be to count as up. */
  nodes: { ackTimeoutMs: number; healthyMs: number };
  /** OpenID providers, whether the password form is offered, and the permissions recheck on connect. */
  sso: SsoConfig;
}

/** Secrets holding PEM may be given as PEM or as its base64 (one line, easier for env files). */
function pem(value: string | undefined): string | undefined {
  if (!value || value.includes('-----BEGIN')) return value;
  return atob(value.trim());
}

export { ConfigError } from '../core/errors.ts';
import { ConfigError } from '../core/errors.ts';

// Parsed once per env object: bindings are stable for the life of an isolate.
const cache = new WeakMap<object, Config>();

/**
 * The settings from a plain record of variables (the Worker's bindings are one: only their
 * string values are read), so config knows nothing of the bindings' types.
 */
export function parseConfig(env: object): Config {
  const hit = cache.get(env);
  if (hit) return hit;
  const parsed = ConfigSchema.safeParse(env);
  const sso = parseSsoConfig(env as Record<string, unknown>, parsed.success ? parsed.data.SESSION_MAX_MINUTES : 12 * 60);
  if (!parsed.success || sso.issues.length) {
    const issues = [...(parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)), ...sso.issues].join('; ');
    throw new ConfigError(`invalid configuration: ${issues}`);
  }
  const c = parsed.data;
  const config: Config = {
    dbDriver: c.DB_DRIVER,
    databaseUrl: c.DATABASE_URL,
    sessionIdleMs: c.SESSION_IDLE_MINUTES * 60_000,
    sessionMaxMs: c.SESSION_MAX_MINUTES * 60_000,
    setupToken: c.SETUP_TOKEN,
    login: {
      maxFailuresAccount: c.LOGIN_MAX_FAILURES_ACCOUNT,
      maxFailuresIp: c.LOGIN_MAX_FAILURES_IP,
      windowMs: c.LOGIN_WINDOW_MINUTES * 60_000,
    },
    oauth: {
      signingKey: c.OAUTH_SIGNING_KEY,
      authorizationMs: c.AUTHORIZATION_DAYS * 24 * 3_600_000,
      accessTokenMs: c.ACCESS_TOKEN_MINUTES * 60_000,
    },
    vpn: { caCert: pem(c.VPN_CA_CERT), caKey: pem(c.VPN_CA_KEY), maxActiveApiConfigs: c.MAX_ACTIVE_API_CONFIGS, maxActivePortalConfigs: c.MAX_ACTIVE_PORTAL_CONFIGS },
    nodes: { ackTimeoutMs: c.NODE_ACK_TIMEOUT_MS, healthyMs: c.NODE_HEALTHY_SECONDS * 1000 },
    sso: sso.config,
  };
  cache.set(env, config);
  return config;
}
