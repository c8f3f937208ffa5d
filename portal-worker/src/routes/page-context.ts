import type { Context } from 'hono';
import type { AppEnv } from '../env.ts';
import { translator } from '../i18n/index.ts';
import { csrfToken } from '../middleware/session.ts';
import type { PageContext } from '../views/page.ts';

export async function pageContext(c: Context<AppEnv>): Promise<PageContext> {
  const url = new URL(c.req.url);
  const lang = c.var.lang ?? 'en';
  return { user: c.var.user ?? null, csrf: await csrfToken(c), lang, t: c.var.t ?? translator(lang), path: url.pathname + url.search };
}
