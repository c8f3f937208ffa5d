import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { csrf, requireAdmin } from '../middleware/session.ts';
import { adminApi } from './admin-api.ts';
import { adminPages } from './admin-pages.tsx';

/** Every admin route, page or API, passes requireAdmin here: there is no way to mount one around it. */
export const admin = new Hono<AppEnv>();

admin.use('*', async function adminAudience(c, next) {
  c.set('audience', new URL(c.req.url).pathname.startsWith('/admin/api/') ? 'problem' : 'html');
  await next();
});
admin.use('*', requireAdmin());
admin.use('*', csrf());
admin.route('/api', adminApi);
admin.route('/', adminPages);
