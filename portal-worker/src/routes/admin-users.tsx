import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { createLocalUserCommand } from '../domain/user-commands.ts';
import { listUsers, setUserDisabled } from '../store/users.ts';
import { UsersPage } from '../views/admin-users.tsx';
import { formValues } from './admin-forms.ts';
import { adminPage, auditContext } from './admin-context.ts';

export const adminUsers = new Hono<AppEnv>();

adminUsers.get('/', async (c) =>
  c.html(<UsersPage page={await adminPage(c)} users={await listUsers(c.var.db)} errors={[]} />),
);

adminUsers.post('/', async (c) => {
  const v = formValues(await c.req.parseBody());
  const permissions = (v.permissions ?? '').split(/[,\s]+/).filter(Boolean);
  const result = await createLocalUserCommand(
    c.var.db,
    { id: v.id ?? '', password: v.password ?? '', is_admin: Boolean(v.is_admin), permissions },
    Date.now(),
    auditContext(c),
  );
  if (result.ok) return c.redirect('/admin/users', 303);
  return c.html(<UsersPage page={await adminPage(c)} users={await listUsers(c.var.db)} errors={result.errors} />, 400);
});

adminUsers.post('/:id/:action{disable|enable}', async (c) => {
  await setUserDisabled(c.var.db, c.var.notifier, c.req.param('id'), c.req.param('action') === 'disable', Date.now(), auditContext(c));
  return c.redirect('/admin/users', 303);
});

