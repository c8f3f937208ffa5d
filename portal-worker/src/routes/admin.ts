import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { csrf, requireAdmin } from '../middleware/session.ts';
import { adminApi } from './admin-api.ts';
import { adminConnections } from './admin-connections.tsx';
import { adminNodes } from './admin-nodes.tsx';
import { adminProfiles } from './admin-profiles.tsx';
import { adminStats } from './admin-stats.tsx';
import { adminUsers } from './admin-users.tsx';

/** Every admin route, page or API, passes requireAdmin here: there is no way to mount one around it. */
export const admin = new Hono<AppEnv>();

admin.use('*', async function adminAudience(c, next) {
  c.set('audience', new URL(c.req.url).pathname.startsWith('/admin/api/') ? 'problem' : 'html');
  await next();
});
admin.use('*', requireAdmin());
admin.use('*', csrf());
admin.route('/api', adminApi);
admin.get('/', (c) => c.redirect('/admin/users'));
admin.route('/users', adminUsers);
admin.route('/connections', adminConnections);
admin.route('/nodes', adminNodes);
admin.route('/profiles', adminProfiles);
// Statistics, the connection log and the audit log live at /admin/stats, /admin/log, /admin/audit.
admin.route('/', adminStats);
