import { base64url } from '../core/crypto.ts';

// RFC 7636 §4.1: 43-128 characters from the unreserved set.
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// RFC 7636 §4.2: S256 challenges are base64url SHA-256, always 43 characters.
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export function isChallenge(value: string): boolean {
  return CHALLENGE.test(value);
}

/** RFC 7636 §4.6: BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge. */
export async function verifierMatches(verifier: string, challenge: string): Promise<boolean> {
  if (!VERIFIER.test(verifier)) return false;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  return base64url(digest) === challenge;
}
