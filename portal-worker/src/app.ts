import { Hono } from 'hono';
import type { AppEnv } from './env.ts';
import { AppError } from './core/errors.ts';
import { database, readBody, requestId, securityHeaders } from './middleware/base.ts';
import { session } from './middleware/session.ts';
import { renderError } from './routes/render-error.tsx';
import { account } from './routes/account.tsx';
import { configs } from './routes/configs.tsx';
import { admin } from './routes/admin.ts';
import { apiV3 } from './routes/api-v3.ts';
import { nodeLink } from './routes/node.ts';
import { discovery } from './routes/discovery.ts';
import { oauth } from './routes/oauth.tsx';
import { portal } from './routes/portal.tsx';
import { setup } from './routes/setup.ts';
import { sso } from './routes/sso.tsx';
import { APP_CSS } from './views/style.ts';
import { APP_JS } from './views/client-script.ts';
import { language } from './middleware/language.ts';

/** The one place sub-apps are mounted, one per audience (docs/conventions.md §1). */
export function createApp() {
  const app = new Hono<AppEnv>();
  app.use('*', requestId(), securityHeaders());
  // Static assets need neither the database nor a session.
  app.get('/static/app.css', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(APP_CSS, 200, { 'Content-Type': 'text/css; charset=utf-8' });
  });
  app.get('/static/app.js', (c) => {
    c.header('Cache-Control', 'public, max-age=3600');
    return c.body(APP_JS, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
  });
  // No form or profile needs more than 64 KiB.
  app.use('*', language(), readBody(64 * 1024), database(), session());
  app.route('/', discovery);
  app.route('/oauth', oauth);
  app.route('/api/v3', apiV3);
  app.route('/admin', admin);
  app.route('/node', nodeLink);
  app.route('/account', account);
  app.route('/configs', configs);
  app.route('/sso', sso);
  app.route('/', setup);
  app.route('/', portal);
  app.notFound((c) => renderError(new AppError('not_found', `nothing at ${new URL(c.req.url).pathname}`), c));
  app.onError(renderError);
  return app;
}

export const app = createApp();
