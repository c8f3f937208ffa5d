import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../errors.ts';
import { parseConfig } from '../config.ts';
import { dbFor } from '../db/connect.ts';
import { channelNotifier } from '../channel/notifier.ts';
import { ensureSchema } from '../db/ensure-schema.ts';
import type { AppEnv } from '../env.ts';

/** A request id for logs and error bodies; an upstream Cloudflare ray id is kept for correlation. */
export function requestId(): MiddlewareHandler<AppEnv> {
  return async function requestIdMiddleware(c, next) {
    const ray = c.req.header('cf-ray');
    const id = ray && /^[\w-]{1,64}$/.test(ray) ? ray : crypto.randomUUID();
    c.set('requestId', id);
    await next();
    c.header('X-Request-Id', id);
  };
}

/** CSP `default-src 'self'` keeps every page free of inline script and style; see views/. */
export function securityHeaders(): MiddlewareHandler<AppEnv> {
  return async function securityHeadersMiddleware(c, next) {
    await next();
    // Browsers apply form-action to the redirect after a submit too: the consent form's answer
    // goes on to the app's redirect URI, so that page allows exactly that one target as well.
    const formAction = c.var.formActionSource ? `'self' ${c.var.formActionSource}` : "'self'";
    c.header('Content-Security-Policy', `default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; form-action ${formAction}; base-uri 'none'`);
    c.header('X-Frame-Options', 'DENY');
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Referrer-Policy', 'same-origin');
    if (new URL(c.req.url).protocol === 'https:') c.header('Strict-Transport-Security', 'max-age=31536000');
  };
}

/** Parses the config once per isolate and hands each request its database, migrated. */
export function database(): MiddlewareHandler<AppEnv> {
  return async function databaseMiddleware(c, next) {
    const config = parseConfig(c.env);
    c.set('config', config);
    const db = dbFor(c.env, config);
    await ensureSchema(db);
    c.set('db', db);
    c.set('notifier', channelNotifier(c.env.NODE_CHANNEL));
    await next();
  };
}

/** Bodies larger than this are refused before they are read: no form or profile needs more. */
export function limitBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError('payload_too_large', `request bodies are limited to ${maxBytes} bytes`);
    },
  });
}
