import type { MiddlewareHandler } from 'hono';
import { AppError } from '../core/errors.ts';
import { parseConfig } from '../config/config.ts';
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

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Reads a request's body once, up front, refusing more than `maxBytes` (413) as the bytes come,
 * whatever Content-Length claims. A client that drops the connection mid-upload makes the read
 * fail: that is the client's doing, so it is a 400 here instead of a 500 wherever a handler
 * happened to parse the body (found by the fuzz run). Handlers then parse the buffered copy.
 */
export function readBody(maxBytes: number): MiddlewareHandler<AppEnv> {
  const tooLarge = () => new AppError('payload_too_large', `request bodies are limited to ${maxBytes} bytes`);
  return async function readBodyMiddleware(c, next) {
    const body = c.req.raw.body;
    if (BODYLESS.has(c.req.method) || body === null) return next();
    if (Number(c.req.header('content-length') ?? 0) > maxBytes) throw tooLarge();
    const chunks: Uint8Array[] = [];
    let size = 0;
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > maxBytes) {
          await reader.cancel().catch(() => undefined);
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('bad_request', 'the request body could not be read: the upload was cut off');
    }
    const buffer = new Uint8Array(size);
    let at = 0;
    for (const chunk of chunks) {
      buffer.set(chunk, at);
      at += chunk.byteLength;
    }
    c.req.raw = new Request(c.req.raw, { body: buffer });
    await next();
  };
}
