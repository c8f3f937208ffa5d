import { SignJWT, importJWK, importPKCS8, jwtVerify, exportJWK, type CryptoKey as JoseKey, type JWTPayload } from 'jose';
import { fromBase64 } from '../core/crypto.ts';
import { ConfigError } from '../core/errors.ts';

/**
 * Access and refresh tokens are EdDSA-signed JWTs from one key that every portal instance
 * shares (the OAUTH_SIGNING_KEY secret): any edge location can verify what another issued.
 * Signatures only prove we issued a token; every use is also checked against the
 * authorization row, so revocation takes effect at once.
 */
export interface SigningKeys {
  privateKey: JoseKey;
  publicKey: JoseKey;
  kid: string;
}

const ISSUER = 'edgeport';
const cache = new Map<string, Promise<SigningKeys>>();

/** Accepts PKCS#8 PEM or the base64 of PKCS#8 DER (one line, easier to pass as a secret). */
export function signingKeys(secret: string | undefined): Promise<SigningKeys> {
  if (!secret) throw new ConfigError('the OAUTH_SIGNING_KEY secret is not set (an Ed25519 private key, PKCS#8)');
  let hit = cache.get(secret);
  if (!hit) {
    hit = load(secret);
    cache.set(secret, hit);
    hit.catch(() => cache.delete(secret));
  }
  return hit;
}

async function load(secret: string): Promise<SigningKeys> {
  const pem = secret.includes('BEGIN') ? secret : `-----BEGIN PRIVATE KEY-----\n${btoa(String.fromCharCode(...fromBase64(secret.trim())))}\n-----END PRIVATE KEY-----`;
  const privateKey = await importPKCS8(pem, 'EdDSA', { extractable: true });
  const jwk = await exportJWK(privateKey);
  const publicKey = (await importJWK({ kty: jwk.kty, crv: jwk.crv, x: jwk.x }, 'EdDSA')) as JoseKey;
  const kid = (jwk.x ?? '').slice(0, 12);
  return { privateKey, publicKey, kid };
}

export type TokenKind = 'access' | 'refresh';

export interface TokenClaims {
  /** The authorization (upstream "auth_key") the token belongs to. */
  auth: string;
  /** Refresh tokens only: the generation this token may rotate from. */
  seq?: number;
}

export async function signToken(keys: SigningKeys, kind: TokenKind, claims: TokenClaims, subject: string, expiresAtMs: number, nowMs: number): Promise<string> {
  return new SignJWT({ ...claims })
    .setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: kind === 'access' ? 'at+jwt' : 'rt+jwt' })
    .setIssuer(ISSUER)
    .setSubject(subject)
    .setIssuedAt(Math.floor(nowMs / 1000))
    .setExpirationTime(Math.floor(expiresAtMs / 1000))
    .setJti(crypto.randomUUID())
    .sign(keys.privateKey);
}

/** The claims of a valid token of this kind, or null for anything forged, expired or of the other kind. */
export async function verifyToken(keys: SigningKeys, kind: TokenKind, token: string, nowMs: number): Promise<(JWTPayload & TokenClaims) | null> {
  if (token.length > 4096) return null;
  try {
    const { payload } = await jwtVerify<TokenClaims>(token, keys.publicKey, {
      issuer: ISSUER,
      typ: kind === 'access' ? 'at+jwt' : 'rt+jwt',
      algorithms: ['EdDSA'],
      currentDate: new Date(nowMs),
    });
    if (typeof payload.auth !== 'string' || typeof payload.sub !== 'string') return null;
    if (kind === 'refresh' && !Number.isInteger(payload.seq)) return null;
    return payload;
  } catch {
    return null;
  }
}
