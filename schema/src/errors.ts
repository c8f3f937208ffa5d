/**
 * Unique-constraint violations are expected outcomes (a name already taken, a lost race for an
 * address), so callers need to tell them from faults on both dialects:
 * SQLite/D1 says "UNIQUE constraint failed", MySQL says "Duplicate entry" (errno 1062).
 */
export function isUniqueViolation(err: unknown): boolean {
  const text = errorText(err);
  return /UNIQUE constraint failed|Duplicate entry|errno 1062|\b1062\b|PRIMARY KEY constraint failed/i.test(text);
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const extra = err as Error & { cause?: unknown; body?: { message?: string; code?: string } };
    return [err.message, extra.body?.message ?? '', extra.body?.code ?? '', extra.cause ? errorText(extra.cause) : ''].join(' ');
  }
  return String(err);
}

/**
 * MySQL aborts one side of a deadlock (errno 1213) or a lock wait (1205) and asks the client to
 * run the transaction again; nothing of it was applied.
 */
export function isTransientTxError(err: unknown): boolean {
  return /errno 1213|errno 1205|Deadlock found|Lock wait timeout/i.test(errorText(err));
}
