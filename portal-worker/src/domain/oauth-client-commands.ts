import { isUniqueViolation } from '@edgeport/schema';
import { z } from 'zod';
import type { Db } from '../core/db.ts';
import { AppError, type FieldError } from '../core/errors.ts';
import { fieldErrors } from './validation.ts';
import { isBuiltInClient, type OAuthClient } from './oauth-clients.ts';
import type { AuditContext } from '../store/audit.ts';
import { authorizationsOfClient, createClientStatements, deleteClientStatements, findClientId } from '../store/oauth.ts';

/**
 * Redirect URIs an app may register (RFC 8252 §7): https anywhere; http only on the loopback
 * hosts (a fixed port or `{PORT}` for "any"); or a private-use scheme in reverse-DNS form.
 */
function redirectProblem(uri: string): string | null {
  if (/[\s#]/.test(uri) || uri.length > 1024) return 'must not contain spaces or a fragment, and be at most 1024 characters';
  const loopback = /^http:\/\/(127\.0\.0\.1|\[::1\]):(\{PORT\}|[1-9]\d{0,4})\/[^\s]*$/;
  if (loopback.test(uri)) return null;
  if (/^https:\/\/[a-z0-9.-]+(:\d{1,5})?\/[^\s]*$/i.test(uri)) return null;
  if (/^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:\/[^\s]*$/.test(uri)) return null;
  return 'must be https, http on 127.0.0.1 or [::1] (port or {PORT}), or a reverse-DNS private-use scheme like org.example.app:/callback';
}

const ClientBody = z
  .object({
    client_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'letters, digits, ".", "_" and "-", at most 128'),
    client_name: z.string().trim().min(1).max(255).optional(),
    redirect_uris: z.array(z.string()).min(1).max(10),
    requires_approval: z.boolean().default(true),
  })
  .strict();

export type ClientResult = { ok: true; client: OAuthClient } | { ok: false; errors: FieldError[] };

export async function createClientCommand(db: Db, input: unknown, now: number, audit: AuditContext): Promise<ClientResult> {
  const parsed = ClientBody.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors(parsed.error) };
  }
  const b = parsed.data;
  const errors: FieldError[] = [];
  if (isBuiltInClient(b.client_id)) errors.push({ path: 'client_id', message: "is a built-in eduVPN / Let's Connect! client" });
  b.redirect_uris.forEach((u, i) => {
    const problem = redirectProblem(u);
    if (problem) errors.push({ path: `redirect_uris.${i}`, message: problem });
  });
  if (errors.length) return { ok: false, errors };
  const client: OAuthClient = { id: b.client_id, name: b.client_name ?? b.client_id, redirectUris: b.redirect_uris, requiresApproval: b.requires_approval };
  try {
    await db.atomic(createClientStatements(db, client, now, audit));
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('conflict', `client "${client.id}" already exists`);
    throw err;
  }
  return { ok: true, client };
}

/** Removing a client ends every authorization made through it (their configs leave the nodes). */
export async function deleteClientCommand(db: Db, clientId: string, now: number, audit: AuditContext, endAuthorizations: (ids: string[]) => Promise<void>): Promise<void> {
  const row = await findClientId(db, clientId);
  if (!row) throw new AppError('not_found', `no registered client "${clientId}"`);
  await endAuthorizations(await authorizationsOfClient(db, clientId));
  await db.atomic(deleteClientStatements(db, row, clientId, now, audit));
}
