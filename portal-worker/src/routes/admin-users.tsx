import { Hono, type Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { createLocalUserCommand, deleteUserCommand, setUserDisabledCommand, type UserActionResult } from '../domain/user-commands.ts';
import { userDetail } from '../store/user-detail.ts';
import { searchUsers, USER_STATUS_FILTERS, type UserStatusFilter } from '../store/users.ts';
import { UserDetailPage } from '../views/admin-user-detail.tsx';
import { UsersPage, type NewUserValues } from '../views/admin-users.tsx';
import { formValues } from './admin-forms.ts';
import { adminPage, auditContext } from './admin-context.ts';

export const adminUsers = new Hono<AppEnv>();

function listFilter(c: Context<AppEnv>): { q: string; status: UserStatusFilter } {
  const status = c.req.query('status');
  return {
    q: (c.req.query('q') ?? '').slice(0, 200),
    // An unknown filter value (an old bookmark) shows everyone rather than an error.
    status: USER_STATUS_FILTERS.find((s) => s === status) ?? 'all',
  };
}

async function usersPage(c: Context<AppEnv>, values: NewUserValues, errors: FieldError[], status: 200 | 400) {
  const filter = listFilter(c);
  const { users, more } = await searchUsers(c.var.db, filter, Date.now());
  return c.html(<UsersPage page={await adminPage(c)} filter={filter} users={users} more={more} values={values} errors={errors} />, status);
}

adminUsers.get('/', (c) => usersPage(c, {}, [], 200));

adminUsers.post('/', async (c) => {
  const v = formValues(await c.req.parseBody());
  const permissions = (v.permissions ?? '').split(/[,\s]+/).filter(Boolean);
  const displayName = (v.display_name ?? '').trim();
  const input = { id: v.id ?? '', display_name: displayName || null, password: v.password ?? '', is_admin: Boolean(v.is_admin), permissions };
  const kept = { id: v.id, display_name: v.display_name, permissions: v.permissions, is_admin: v.is_admin };
  try {
    const result = await createLocalUserCommand(c.var.db, input, Date.now(), auditContext(c));
    if (result.ok) return c.redirect(`/admin/users/${encodeURIComponent(result.id)}`, 303);
    return usersPage(c, kept, result.errors, 400);
  } catch (err) {
    // A taken user name is a mistake in the form, shown next to it like any other.
    if (err instanceof AppError && err.code === 'conflict') return usersPage(c, kept, [{ path: 'id', message: err.message }], 400);
    throw err;
  }
});

async function detailPage(c: Context<AppEnv>, id: string, refused: boolean) {
  const now = Date.now();
  const detail = await userDetail(c.var.db, id, now);
  if (!detail) throw new AppError('not_found', `no user "${id}"`);
  const provider = c.var.config.sso.providers.find((p) => p.id === detail.user.authProvider);
  return c.html(<UserDetailPage page={await adminPage(c)} detail={detail} now={now} refused={refused} providerName={provider?.name ?? null} />, refused ? 403 : 200);
}

adminUsers.get('/:id', (c) => detailPage(c, c.req.param('id'), false));

/** Refusals are shown on the user's page (an admin acting on their own account); a missing user is a 404. */
async function answer(c: Context<AppEnv>, id: string, result: UserActionResult, next: string) {
  if (result.ok) return c.redirect(next, 303);
  if (result.reason === 'not_found') throw new AppError('not_found', `no user "${id}"`);
  return detailPage(c, id, true);
}

adminUsers.post('/:id/:action{disable|enable}', async (c) => {
  const id = c.req.param('id');
  const result = await setUserDisabledCommand(c.var.db, c.var.notifier, id, c.req.param('action') === 'disable', Date.now(), auditContext(c));
  return answer(c, id, result, `/admin/users/${encodeURIComponent(id)}`);
});

adminUsers.post('/:id/delete', async (c) => {
  const id = c.req.param('id');
  const result = await deleteUserCommand(c.var.db, c.var.notifier, id, Date.now(), auditContext(c));
  return answer(c, id, result, '/admin/users');
});
