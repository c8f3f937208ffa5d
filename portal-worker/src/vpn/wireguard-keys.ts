/**
 * WireGuard key pairs made in the Worker, for portal downloads (docs/eduvpn.md §2.1: the portal fills
 * in `PrivateKey`). Keys are base64 of 32 bytes, as `wg genkey` / `wg pubkey` print them.
 */

const X25519 = { name: 'X25519' };
// The curve's base point u = 9: X25519(k, 9) is the public key of k, which is what `wg pubkey` computes.
const BASE_POINT = new Uint8Array(32);
BASE_POINT[0] = 9;
// RFC 8410 PKCS#8 wrapping of a raw X25519 private key (the only private import format WebCrypto takes).
const PKCS8_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20];

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));

export interface WireguardKeyPair {
  privateKey: string;
  publicKey: string;
}

/** `wg pubkey`: the public key of a base64 private key; null when it is not 32 bytes of base64. */
export async function wireguardPublicKey(privateKey: string): Promise<string | null> {
  let raw: Uint8Array;
  try {
    raw = Uint8Array.from(atob(privateKey), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
  if (raw.length !== 32) return null;
  const key = await crypto.subtle.importKey('pkcs8', new Uint8Array([...PKCS8_PREFIX, ...raw]), X25519, false, ['deriveBits']);
  const base = await crypto.subtle.importKey('raw', BASE_POINT, X25519, false, []);
  const bits = await crypto.subtle.deriveBits({ name: 'X25519', public: base } as unknown as SubtleCryptoDeriveKeyAlgorithm, key, 256);
  return toBase64(new Uint8Array(bits));
}

/** `wg genkey` then `wg pubkey`: 32 random bytes clamped as Curve25519 scalars are (RFC 7748 §5). */
export async function generateWireguardKeyPair(): Promise<WireguardKeyPair> {
  const raw = crypto.getRandomValues(new Uint8Array(32));
  raw[0] = (raw[0] as number) & 248;
  raw[31] = ((raw[31] as number) & 127) | 64;
  const privateKey = toBase64(raw);
  const publicKey = await wireguardPublicKey(privateKey);
  if (!publicKey) throw new Error('X25519 derivation failed');
  return { privateKey, publicKey };
}
