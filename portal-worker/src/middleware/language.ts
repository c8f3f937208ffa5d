import type { MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import type { AppEnv } from '../env.ts';
import { pickLang, translator } from '../i18n/index.ts';

export const LANG_COOKIE = 'L';

/** Picks the page language once per request; pages read `c.var.t`. */
export function language(): MiddlewareHandler<AppEnv> {
  return async function languageMiddleware(c, next) {
    const lang = pickLang(getCookie(c, LANG_COOKIE), c.req.header('accept-language'));
    c.set('lang', lang);
    c.set('t', translator(lang));
    await next();
  };
}
