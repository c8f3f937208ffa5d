import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { authenticateNode, completeEnrollment } from '../domain/enrollment.ts';
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

/**
 * The node's WebSocket. The credential is checked here against the database on every connection
 * (so revocation holds), then the upgrade goes to the node's own NodeChannel object with the
 * verified id in a header only the worker can set.
 */
nodeLink.get('/ws', async (c) => {
  if (c.req.header('upgrade') !== 'websocket') throw new AppError('bad_request', 'expected a WebSocket upgrade');
  const nodeId = c.req.header('x-edgeport-node') ?? '';
  const credential = /^Bearer (\S+)$/.exec(c.req.header('authorization') ?? '')?.[1] ?? '';
  const node = nodeId ? await authenticateNode(c.var.db, nodeId, credential) : null;
  if (!node) throw new AppError('unauthenticated', 'unknown node or credential', { headers: { 'WWW-Authenticate': 'Bearer realm="Edgeport nodes"' } });
  const headers = new Headers({ upgrade: 'websocket', 'x-edgeport-verified-node': node.id });
  const stub = c.env.NODE_CHANNEL.get(c.env.NODE_CHANNEL.idFromName(node.id));
  return stub.fetch(new Request(c.req.url, { headers }));
});
