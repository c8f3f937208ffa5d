import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.ts';
import { AppError } from '../errors.ts';
import { completeEnrollment } from '../domain/enrollment.ts';
import { jsonBody } from './json-body.ts';

const EnrollBody = z.object({ node_id: z.string().min(1).max(255), token: z.string().min(1).max(512) }).strict();

/** The node link: what node agents call (the WebSocket channel joins it with the NodeChannel). */
export const nodeLink = new Hono<AppEnv>();

nodeLink.use('*', async function problemAudience(c, next) {
  c.set('audience', 'problem');
  await next();
});

nodeLink.post('/enroll', async (c) => {
  const body = EnrollBody.safeParse(await jsonBody(c));
  if (!body.success) throw new AppError('validation_failed', 'send {"node_id","token"} as application/json');
  const credential = await completeEnrollment(c.var.db, body.data.node_id, body.data.token, Date.now());
  c.header('Cache-Control', 'no-store');
  return c.json({ node_id: body.data.node_id, credential }, 201);
});
