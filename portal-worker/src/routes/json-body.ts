import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';

/** JSON bodies only: a form post to a JSON API is a client mistake, answered with 415, not parsed loosely. */
export async function jsonBody(c: Context<AppEnv>): Promise<unknown> {
  if (!(c.req.header('content-type') ?? '').startsWith('application/json')) {
    throw new AppError('unsupported_media_type', 'send the body as application/json');
  }
  try {
    return await c.req.json();
  } catch {
    throw new AppError('bad_request', 'the body is not valid JSON');
  }
}
