import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { csrf, requireUser } from '../middleware/session.ts';

/** Configurations made in the browser for devices without an app (upstream's "portal" configs). */
export const configs = new Hono<AppEnv>();

configs.use('*', async function htmlAudience(c, next) {
  c.set('audience', 'html');
  await next();
});
configs.use('*', requireUser(), csrf());
