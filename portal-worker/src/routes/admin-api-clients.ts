import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import { endAuthorization } from '../domain/authorization-commands.ts';
import { createClientCommand, deleteClientCommand } from '../domain/oauth-client-commands.ts';
import { listRegisteredClients } from '../domain/oauth-clients.ts';
import { auditContext } from './admin-context.ts';
import { jsonBody } from './json-body.ts';

/** Extra OAuth clients beside the built-in apps (upstream's oauth_client_db.json), in the field names upstream uses. */
export const adminClients = new Hono<AppEnv>();

const view = (c: { id: string; name: string; redirectUris: string[]; requiresApproval: boolean }) => ({
  client_id: c.id,
  client_name: c.name,
  redirect_uris: c.redirectUris,
  requires_approval: c.requiresApproval,
});

adminClients.get('/', async (c) => c.json({ clients: (await listRegisteredClients(c.var.db)).map(view) }));

adminClients.post('/', async (c) => {
  const result = await createClientCommand(c.var.db, await jsonBody(c), Date.now(), auditContext(c));
  if (!result.ok) throw new AppError('validation_failed', result.errors.map((e) => `${e.path}: ${e.message}`).join('; '), { fields: result.errors });
  return c.json(view(result.client), 201);
});

adminClients.delete('/:id', async (c) => {
  const now = Date.now();
  const audit = auditContext(c);
  await deleteClientCommand(c.var.db, c.req.param('id'), now, audit, async (ids) => {
    for (const id of ids) await endAuthorization(c.var.db, c.var.notifier, id, now, 'oauth.client_deleted', audit);
  });
  return c.body(null, 204);
});
