import { describe, expect, it } from 'vitest';
import { generateWireguardKeyPair, wireguardPublicKey } from '../src/vpn/wireguard-keys.ts';
import { qrPath } from '../src/vpn/qr.ts';

const hexToBase64 = (hex: string) => btoa(String.fromCharCode(...(hex.match(/../g) ?? []).map((h) => parseInt(h, 16))));
const base64url = (b64url: string) => b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4);

describe('WireGuard keys made in the Worker', () => {
  it('derive public keys as `wg pubkey` does', async () => {
    // Printed by wireguard-tools: `wg genkey | tee /dev/stderr | wg pubkey`.
    expect(await wireguardPublicKey('SL6pciO63qH6i5675JpfwiT5lGTnHTrjwZg8kQX/fFU=')).toBe('tK8gqnhxKnXFZRu3wWHRN0g2A57syY1oxmxc/TyyXGs=');
    // RFC 7748 §6.1 (Alice), unclamped: `wg pubkey` clamps, so does X25519.
    expect(await wireguardPublicKey(hexToBase64('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'))).toBe(
      hexToBase64('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
    );
    expect(await wireguardPublicKey('not base64!')).toBeNull();
    expect(await wireguardPublicKey(btoa('short'))).toBeNull();
  });

  it('agree with WebCrypto’s own X25519 key pairs', async () => {
    for (let i = 0; i < 5; i++) {
      const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, ['deriveBits'])) as CryptoKeyPair;
      const jwk = (await crypto.subtle.exportKey('jwk', pair.privateKey)) as JsonWebKey;
      expect(await wireguardPublicKey(base64url(jwk.d as string))).toBe(base64url(jwk.x as string));
    }
  });

  it('generates clamped 32-byte private keys whose public key matches', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { privateKey, publicKey } = await generateWireguardKeyPair();
      const raw = Uint8Array.from(atob(privateKey), (c) => c.charCodeAt(0));
      expect(raw).toHaveLength(32);
      expect([(raw[0] as number) & 7, (raw[31] as number) & 0xc0]).toEqual([0, 0x40]);
      expect(publicKey).toMatch(/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/);
      expect(await wireguardPublicKey(privateKey)).toBe(publicKey);
      seen.add(privateKey);
    }
    expect(seen.size).toBe(20);
  });
});

describe('QR code paths', () => {
  it('draw the finder patterns inside a four-module quiet zone', () => {
    const qr = qrPath('[Interface]\nPrivateKey = x\n') as NonNullable<ReturnType<typeof qrPath>>;
    // 29 bytes at level M need version 3 (29 modules; version 2 holds 26); plus 2 × 4 quiet modules.
    expect(qr.size).toBe(37);
    // Top row of the top-left and top-right finder patterns: 7 dark modules each.
    expect(qr.d.startsWith('M4 4h7v1h-7z')).toBe(true);
    expect(qr.d).toContain('M26 4h7v1h-7z');
    expect(qr.d).toMatch(/^(M\d+ \d+h\d+v1h-\d+z)+$/);
  });

  it('keep non-ASCII text as UTF-8 and give up on text too long for any version', () => {
    expect(qrPath('# Profile: Büro (b)')?.size).toBeGreaterThan(0);
    expect(qrPath('x'.repeat(2400))).toBeNull();
  });
});
