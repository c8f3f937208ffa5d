import type { Change, NodeMessage } from '@edgeport/schema';
import type { LoginThrottle } from './throttle/login-throttle.ts';

/**
 * The Worker's bindings, a leaf: it names the Durable Objects by the RPC they offer, not by their
 * classes, so nothing that reads a binding drags the classes (and all they import) along.
 */

export type LastSessions = Pick<Extract<NodeMessage, { type: 'sessions' }>, 'at' | 'peers' | 'clients'>;

export interface ChannelStatus {
  connected: boolean;
  revision: number;
  applied: number | null;
  lastSeenAt: number | null;
}

/** What the worker asks a node's NodeChannel object (channel/node-channel.ts implements it). */
export interface NodeChannelRpc extends Rpc.DurableObjectBranded {
  push(changes: Change[], waitMs?: number): Promise<{ revision: number; acked: boolean }>;
  resync(waitMs?: number): Promise<{ revision: number; acked: boolean }>;
  lastSessions(): Promise<LastSessions | null>;
  status(): Promise<ChannelStatus>;
  disconnect(reason: string): Promise<void>;
  fetch(request: Request): Promise<Response>;
}

/** Raw bindings as wrangler.toml and secrets provide them. Handlers read `c.var.config`, never these. */
export interface Bindings {
  DB?: D1Database;
  THROTTLE: DurableObjectNamespace<LoginThrottle>;
  NODE_CHANNEL: DurableObjectNamespace<NodeChannelRpc>;
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
