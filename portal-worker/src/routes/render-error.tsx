import type { Context } from 'hono';
import { AppError, oauthCodeFor, titleFor } from '../core/errors.ts';
import type { AppEnv, Audience } from '../env.ts';
import { ErrorPage } from '../views/error-page.tsx';
import { translator } from '../i18n/index.ts';
import { pageContext } from './page-context.ts';
import type { PageContext } from '../views/page.ts';

/** The error page must render even when the failure came before the session or config were read. */
async function pageContextSafe(c: Context<AppEnv>): Promise<PageContext> {
  try {
    return await pageContext(c);
  } catch {
    return { user: null, csrf: '', lang: 'en', t: translator('en'), path: '/' };
  }
}

/**
 * The one onError: expected failures (AppError) render for the route's audience; anything
 * else is a bug, logged with the request id and shown as a plain 500 without details.
 */
export async function renderError(err: Error, c: Context<AppEnv>): Promise<Response> {
  const requestId = c.get('requestId') ?? 'unknown';
  const appError = err instanceof AppError ? err : new AppError('internal', 'An unexpected error occurred. It has been logged.');
  if (!(err instanceof AppError)) {
    console.error(JSON.stringify({ level: 'error', request_id: requestId, error: err.name, message: err.message, stack: err.stack }));
  }
  for (const [name, value] of Object.entries(appError.headers)) c.header(name, value);
  const status = appError.status as 400;
  switch (c.get('audience') ?? audienceForPath(new URL(c.req.url).pathname, c.req.header('accept'))) {
    case 'oauth':
      c.header('Cache-Control', 'no-store');
      return c.json({ error: oauthCodeFor(appError), error_description: appError.message }, status);
    case 'problem':
      c.header('Content-Type', 'application/problem+json');
      return c.body(
        JSON.stringify({
          type: `urn:edgeport:problem:${appError.code}`,
          title: titleFor(appError.code),
          status: appError.status,
          detail: appError.message,
          code: appError.code,
          request_id: requestId,
          ...(appError.fields.length ? { errors: appError.fields } : {}),
        }),
        status,
      );
    case 'vpn-api':
      // The eduVPN API v3 shape (docs/eduvpn.md §1.3): apps read the status, never match the text.
      return c.json(appError.oauthError ? { error: appError.oauthError, error_description: appError.message } : { error: appError.message }, status);
    case 'html':
      return c.html(<ErrorPage page={await pageContextSafe(c)} title={titleFor(appError.code)} detail={appError.message} fields={appError.fields} requestId={requestId} />, status);
  }
}

/** Used before a sub-app has set its audience (e.g. a 404 at the root). */
export function audienceForPath(path: string, accept: string | undefined): Audience {
  if (path.startsWith('/oauth/token')) return 'oauth';
  if (path.startsWith('/api/v3/')) return 'vpn-api';
  if (path.startsWith('/admin/api/') || path.startsWith('/api/') || path.startsWith('/node/')) return 'problem';
  if (accept?.includes('application/json') && !accept.includes('text/html')) return 'problem';
  return 'html';
}
