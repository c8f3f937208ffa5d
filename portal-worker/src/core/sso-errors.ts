/**
 * The stable codes of a failed single sign-on, with their statuses (the SSO contract). They are
 * values the routes render on their own page (`<p id="sso-error" data-code>`), not AppErrors:
 * 502 is not in the portal's closed set, and each code has its own translated explanation.
 */
export const SSO_STATUS = {
  unknown_provider: 404,
  state: 400,
  provider_error: 400,
  provider_unreachable: 502,
  token_rejected: 400,
  id_token_invalid: 400,
  missing_claim: 400,
  account_conflict: 409,
  disabled: 403,
} as const;

export type SsoCode = keyof typeof SSO_STATUS;

/** A failure on the way; `message` is for the log only (the library's words, never a token). */
export class SsoFailure extends Error {
  override name = 'SsoFailure';
  constructor(
    readonly code: SsoCode,
    message: string,
  ) {
    super(message);
  }
}
