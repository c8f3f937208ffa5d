import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';

export const VERSION = '0.1.0';

/** docs/eduvpn.md §1.1: built from the request's origin, so it is right behind any edge host name. */
export const discovery = new Hono<AppEnv>();

discovery.get('/.well-known/vpn-user-portal', (c) => {
  const origin = new URL(c.req.url).origin;
  c.header('Cache-Control', 'no-store');
  return c.json({
    api: {
      'http://eduvpn.org/api#3': {
        api_endpoint: `${origin}/api/v3`,
        authorization_endpoint: `${origin}/oauth/authorize`,
        token_endpoint: `${origin}/oauth/token`,
      },
    },
    v: VERSION,
  });
});
