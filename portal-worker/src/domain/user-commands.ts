import { z } from 'zod';
import { hashPassword, passwordProblem } from '../auth/password.ts';
import type { Db } from '../db/types.ts';
import type { FieldError } from '../errors.ts';
import { fieldErrors } from './validation.ts';
import type { AuditContext } from '../store/audit.ts';
import { createLocalUser } from '../store/users.ts';

/** Local user names are compared lower-case, so "Alice" and "alice" are one account. */
export function normalizeUserId(raw: string): string {
  return raw.trim().toLowerCase();
}

const NewUserBody = z
  .object({
    id: z.string().transform(normalizeUserId).pipe(z.string().regex(/^[a-z0-9][a-z0-9._@-]{0,127}$/, 'letters, digits, ".", "_", "@" and "-", at most 128')),
    display_name: z.string().trim().min(1).max(255).nullable().default(null),
    password: z.string(),
    is_admin: z.boolean().default(false),
    permissions: z.array(z.string().trim().min(1).max(255)).max(100).default([]),
  })
  .strict();

export type CreateUserResult = { ok: true; id: string } | { ok: false; errors: FieldError[] };

export async function createLocalUserCommand(db: Db, input: unknown, now: number, audit: AuditContext): Promise<CreateUserResult> {
  const parsed = NewUserBody.safeParse(input);
  if (!parsed.success) {
    return { ok: false, errors: fieldErrors(parsed.error) };
  }
  const u = parsed.data;
  const problem = passwordProblem(u.password);
  if (problem) return { ok: false, errors: [{ path: 'password', message: problem }] };
  await createLocalUser(db, { id: u.id, displayName: u.display_name, passwordHash: await hashPassword(u.password), isAdmin: u.is_admin, permissions: u.permissions }, now, audit);
  return { ok: true, id: u.id };
}
