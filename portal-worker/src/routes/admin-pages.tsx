import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../errors.ts';
import { createProfileCommand, deleteProfileCommand, updateProfileCommand } from '../domain/profile-commands.ts';
import { createLocalUserCommand } from '../domain/user-commands.ts';
import { csrfToken } from '../middleware/session.ts';
import { listAudit, type AuditContext } from '../store/audit.ts';
import { getProfile, listProfiles } from '../store/profiles.ts';
import { listUsers, setUserDisabled, type CurrentUser } from '../store/users.ts';
import { AuditPage, profileToForm, ProfileFormPage, ProfilesPage, UsersPage } from '../views/admin.tsx';
import { formValues, profileInputFromForm } from './admin-forms.ts';

export function auditContext(c: Context<AppEnv>): AuditContext {
  return { actorUserId: c.var.user?.id ?? null, requestId: c.var.requestId };
}

// requireAdmin runs before these handlers (mounted in routes/admin.ts); this narrows the type.
function admin(c: Context<AppEnv>): CurrentUser {
  if (!c.var.user?.isAdmin) throw new AppError('forbidden', 'administrators only');
  return c.var.user;
}

export const adminPages = new Hono<AppEnv>();

adminPages.get('/', (c) => c.redirect('/admin/profiles'));

adminPages.get('/profiles', async (c) =>
  c.html(<ProfilesPage user={admin(c)} csrf={await csrfToken(c)} profiles={await listProfiles(c.var.db)} />),
);

const NEW_PROFILE = { default_gateway: 'on', wg_port: '51820', ovpn_udp_ports: '1194', ovpn_tcp_ports: '1194', preferred_proto: 'openvpn' };

adminPages.get('/profiles/new', async (c) =>
  c.html(<ProfileFormPage user={admin(c)} csrf={await csrfToken(c)} mode="new" values={NEW_PROFILE} errors={[]} />),
);

adminPages.post('/profiles', async (c) => {
  const values = formValues(await c.req.parseBody());
  const result = await createProfileCommand(c.var.db, profileInputFromForm(values), Date.now(), auditContext(c));
  if (result.ok) return c.redirect(`/admin/profiles/${encodeURIComponent(result.profile.id)}`, 303);
  return c.html(<ProfileFormPage user={admin(c)} csrf={await csrfToken(c)} mode="new" values={values} errors={result.errors} />, 400);
});

adminPages.get('/profiles/:id', async (c) => {
  const profile = await getProfile(c.var.db, c.req.param('id'));
  if (!profile) throw new AppError('not_found', `no profile "${c.req.param('id')}"`);
  return c.html(<ProfileFormPage user={admin(c)} csrf={await csrfToken(c)} mode="edit" values={profileToForm(profile)} errors={[]} />);
});

adminPages.post('/profiles/:id', async (c) => {
  const id = c.req.param('id');
  const values = { ...formValues(await c.req.parseBody()), id };
  const result = await updateProfileCommand(c.var.db, c.var.notifier, id, profileInputFromForm(values), Date.now(), auditContext(c));
  if (result.ok) return c.redirect(`/admin/profiles/${encodeURIComponent(id)}`, 303);
  return c.html(<ProfileFormPage user={admin(c)} csrf={await csrfToken(c)} mode="edit" values={values} errors={result.errors} />, 400);
});

adminPages.post('/profiles/:id/delete', async (c) => {
  await deleteProfileCommand(c.var.db, c.var.notifier, c.req.param('id'), Date.now(), auditContext(c));
  return c.redirect('/admin/profiles', 303);
});

adminPages.get('/users', async (c) =>
  c.html(<UsersPage user={admin(c)} csrf={await csrfToken(c)} users={await listUsers(c.var.db)} errors={[]} />),
);

adminPages.post('/users', async (c) => {
  const v = formValues(await c.req.parseBody());
  const permissions = (v.permissions ?? '').split(/[,\s]+/).filter(Boolean);
  const result = await createLocalUserCommand(
    c.var.db,
    { id: v.id ?? '', password: v.password ?? '', is_admin: Boolean(v.is_admin), permissions },
    Date.now(),
    auditContext(c),
  );
  if (result.ok) return c.redirect('/admin/users', 303);
  return c.html(<UsersPage user={admin(c)} csrf={await csrfToken(c)} users={await listUsers(c.var.db)} errors={result.errors} />, 400);
});

adminPages.post('/users/:id/:action{disable|enable}', async (c) => {
  await setUserDisabled(c.var.db, c.var.notifier, c.req.param('id'), c.req.param('action') === 'disable', Date.now(), auditContext(c));
  return c.redirect('/admin/users', 303);
});

adminPages.get('/audit', async (c) =>
  c.html(<AuditPage user={admin(c)} csrf={await csrfToken(c)} entries={await listAudit(c.var.db)} />),
);
