import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { AppError } from '../core/errors.ts';
import type { AuditContext } from '../store/audit.ts';
import { pageContext } from './page-context.ts';
import type { UserPageContext } from '../views/page.ts';

export function auditContext(c: Context<AppEnv>): AuditContext {
  return { actorUserId: c.var.user?.id ?? null, requestId: c.var.requestId };
}

/** requireAdmin runs before every admin handler (routes/admin.ts); this narrows the type for views. */
export async function adminPage(c: Context<AppEnv>): Promise<UserPageContext> {
  const user = c.var.user;
  if (!user?.isAdmin) throw new AppError('forbidden', 'administrators only');
  return { ...(await pageContext(c)), user };
}

/** A live region asks for its fragment with this header; the same route answers the full page otherwise. */
export function wantsFragment(c: Context<AppEnv>): boolean {
  return c.req.header('x-fragment') === '1';
}
