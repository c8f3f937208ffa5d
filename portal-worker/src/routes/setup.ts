import { Hono } from 'hono';
import { z } from 'zod';
import { timingSafeEqual } from '../core/crypto.ts';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { createLocalUserCommand } from '../domain/user-commands.ts';
import { countUsers } from '../store/users.ts';

const SetupBody = z.object({ token: z.string(), user: z.string(), password: z.string() }).strict();

/**
 * First run: creates the first administrator, once, for whoever holds the SETUP_TOKEN secret
 * (`npm start` makes one and calls this itself). Without the secret the route does not exist,
 * and once any user exists it refuses, so a fresh deployment cannot be claimed by a stranger.
 */
export const setup = new Hono<AppEnv>();

setup.post('/setup', async (c) => {
  c.set('audience', 'problem');
  const expected = c.var.config.setupToken;
  if (!expected) throw new AppError('not_found', 'setup is not enabled (no SETUP_TOKEN secret)');
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new AppError('bad_request', 'send {"token","user","password"} as application/json');
  }
  const body = SetupBody.safeParse(raw);
  if (!body.success) throw new AppError('validation_failed', 'send {"token","user","password"} as application/json');
  if (!timingSafeEqual(body.data.token, expected)) throw new AppError('forbidden', 'wrong setup token');
  if ((await countUsers(c.var.db)) > 0) throw new AppError('conflict', 'setup is already done: an account exists');
  const result = await createLocalUserCommand(c.var.db, { id: body.data.user, password: body.data.password, is_admin: true }, Date.now(), { actorUserId: null, requestId: c.var.requestId });
  if (!result.ok) throw new AppError('validation_failed', result.errors.map((e) => `${e.path}: ${e.message}`).join('; '), { fields: result.errors });
  return c.json({ user: result.id, admin: true }, 201);
});

setup.get('/health', (c) => c.json({ status: 'ok' }));
