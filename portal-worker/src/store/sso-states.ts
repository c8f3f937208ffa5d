import { sha256Hex } from '../core/crypto.ts';
import type { Db } from '../core/db.ts';

export interface NewSsoState {
  state: string;
  providerId: string;
  /** The browser's `edgeport_sso` cookie; only its hash is stored, like the state's. */
  browserSecret: string;
  nonce: string;
  codeVerifier: string;
  next: string;
  expiresAt: number;
}

/** Stores a started login; expired states go in the same batch (housekeeping rides along, as with sessions). */
export async function createSsoState(db: Db, s: NewSsoState, now: number): Promise<void> {
  await db.atomic([
    db.kysely.deleteFrom('sso_states').where('expires_at', '<=', now),
    db.kysely.insertInto('sso_states').values({
      state_hash: await sha256Hex(s.state),
      provider_id: s.providerId,
      browser_hash: await sha256Hex(s.browserSecret),
      nonce: s.nonce,
      code_verifier: s.codeVerifier,
      next: s.next,
      created_at: now,
      expires_at: s.expiresAt,
      used_at: null,
    }),
  ]);
}

export type ConsumeResult = { kind: 'consumed'; nonce: string; codeVerifier: string; next: string } | { kind: 'refused'; reason: 'unknown' | 'expired' | 'used' | 'other_browser' | 'other_provider' };

/**
 * Checks a callback's state against the row and consumes it, once: the conditional update on
 * used_at is the single-use guarantee across every edge instance. A refused state is left as it
 * was, so a state seen elsewhere (say, in a log) cannot be used to spoil the real browser's login.
 */
export async function consumeSsoState(db: Db, state: string, providerId: string, browserSecret: string | null, now: number): Promise<ConsumeResult> {
  const stateHash = await sha256Hex(state);
  const row = await db.kysely.selectFrom('sso_states').selectAll().where('state_hash', '=', stateHash).executeTakeFirst();
  if (!row) return { kind: 'refused', reason: 'unknown' };
  if (row.provider_id !== providerId) return { kind: 'refused', reason: 'other_provider' };
  if (row.used_at !== null) return { kind: 'refused', reason: 'used' };
  if (row.expires_at <= now) return { kind: 'refused', reason: 'expired' };
  if (!browserSecret || (await sha256Hex(browserSecret)) !== row.browser_hash) return { kind: 'refused', reason: 'other_browser' };
  const r = await db.kysely.updateTable('sso_states').set({ used_at: now }).where('state_hash', '=', stateHash).where('used_at', 'is', null).executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) return { kind: 'refused', reason: 'used' };
  return { kind: 'consumed', nonce: row.nonce, codeVerifier: row.code_verifier, next: row.next };
}
