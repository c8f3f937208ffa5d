import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { createProfileCommand, deleteProfileCommand, updateProfileCommand } from '../domain/profile-commands.ts';
import { createLocalUserCommand, deleteUserCommand, setUserDisabledCommand } from '../domain/user-commands.ts';
import { createNodeCommand, deleteNodeCommand, updateNodeCommand } from '../domain/node-commands.ts';
import { getNode, listNodes, nodeStates } from '../store/nodes.ts';
import { revokeNode, startEnrollment } from '../domain/enrollment.ts';
import { listAudit } from '../store/audit.ts';
import { getProfile, listProfiles } from '../store/profiles.ts';
import { getUser, listUsers } from '../store/users.ts';
import { auditContext } from './admin-context.ts';
import { adminClients } from './admin-api-clients.ts';
import { jsonBody } from './json-body.ts';

function invalid(errors: FieldError[]): never {
  throw new AppError('validation_failed', errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; '), { fields: errors });
}

export const adminApi = new Hono<AppEnv>();

adminApi.route('/oauth-clients', adminClients);

adminApi.get('/profiles', async (c) => c.json({ profiles: await listProfiles(c.var.db) }));

adminApi.post('/profiles', async (c) => {
  const result = await createProfileCommand(c.var.db, await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) invalid(result.errors);
  return c.json(result.profile, 201);
});

adminApi.get('/profiles/:id', async (c) => {
  const profile = await getProfile(c.var.db, c.req.param('id'));
  if (!profile) throw new AppError('not_found', `no profile "${c.req.param('id')}"`);
  return c.json(profile);
});

adminApi.put('/profiles/:id', async (c) => {
  const result = await updateProfileCommand(c.var.db, c.var.notifier, c.req.param('id'), await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) invalid(result.errors);
  return c.json(result.profile);
});

adminApi.delete('/profiles/:id', async (c) => {
  await deleteProfileCommand(c.var.db, c.var.notifier, c.req.param('id'), Date.now(), auditContext(c));
  return c.body(null, 204);
});

adminApi.get('/users', async (c) => c.json({ users: await listUsers(c.var.db) }));

adminApi.post('/users', async (c) => {
  const result = await createLocalUserCommand(c.var.db, await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) invalid(result.errors);
  return c.json(await getUser(c.var.db, result.id), 201);
});

/** Everything of the user goes except the logs (upstream's "delete"); admins cannot delete themselves. */
adminApi.delete('/users/:id', async (c) => {
  const id = c.req.param('id');
  const result = await deleteUserCommand(c.var.db, c.var.notifier, id, Date.now(), auditContext(c));
  if (!result.ok) throw result.reason === 'self' ? new AppError('forbidden', 'administrators cannot delete themselves') : new AppError('not_found', `no user "${id}"`);
  return c.body(null, 204);
});

adminApi.post('/users/:id/:action{disable|enable}', async (c) => {
  const id = c.req.param('id');
  const result = await setUserDisabledCommand(c.var.db, c.var.notifier, id, c.req.param('action') === 'disable', Date.now(), auditContext(c));
  if (!result.ok) throw result.reason === 'self' ? new AppError('forbidden', 'administrators cannot disable or enable themselves') : new AppError('not_found', `no user "${id}"`);
  return c.json(await getUser(c.var.db, id));
});

adminApi.get('/audit', async (c) => c.json({ entries: await listAudit(c.var.db) }));

adminApi.get('/nodes', async (c) => c.json({ nodes: await listNodes(c.var.db) }));

adminApi.post('/nodes', async (c) => {
  const result = await createNodeCommand(c.var.db, c.var.notifier, await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) invalid(result.errors);
  return c.json(await getNode(c.var.db, result.node.id), 201);
});

/** The node with its last reported status (what the nodes page shows), null before its first contact. */
adminApi.get('/nodes/:id', async (c) => {
  const node = await getNode(c.var.db, c.req.param('id'));
  if (!node) throw new AppError('not_found', `no node "${c.req.param('id')}"`);
  return c.json({ ...node, status: (await nodeStates(c.var.db, node.id)).get(node.id) ?? null });
});

adminApi.put('/nodes/:id', async (c) => {
  const result = await updateNodeCommand(c.var.db, c.var.notifier, c.req.param('id'), await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) invalid(result.errors);
  return c.json(await getNode(c.var.db, result.node.id));
});

adminApi.delete('/nodes/:id', async (c) => {
  const id = c.req.param('id');
  await deleteNodeCommand(c.var.db, c.var.notifier, id, Date.now(), auditContext(c));
  // The credential is gone with the row; the live socket goes too.
  await c.env.NODE_CHANNEL.get(c.env.NODE_CHANNEL.idFromName(id)).disconnect('this node was deleted by an administrator');
  return c.body(null, 204);
});

/** A one-time token for the node's agent, shown once, with the command that uses it. */
adminApi.post('/nodes/:id/enrollment', async (c) => {
  const id = c.req.param('id');
  const { token, expiresAt } = await startEnrollment(c.var.db, id, Date.now(), auditContext(c));
  const origin = new URL(c.req.url).origin;
  c.header('Cache-Control', 'no-store');
  return c.json({ node_id: id, token, expires_at: expiresAt, command: `edgeport-agent enroll --portal ${origin} --node ${id} --token ${token}` }, 201);
});

adminApi.post('/nodes/:id/revoke', async (c) => {
  const id = c.req.param('id');
  await revokeNode(c.var.db, id, Date.now(), auditContext(c));
  // Cut the live connection too; the credential check refuses any reconnect.
  await c.env.NODE_CHANNEL.get(c.env.NODE_CHANNEL.idFromName(id)).disconnect('this node was revoked by an administrator');
  return c.json(await getNode(c.var.db, id));
});
