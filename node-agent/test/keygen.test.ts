/**
 * x25519PublicKey() and the Node 20 deadlock it avoids (see keys.ts). Under --gc-global every
 * collection is a full one, so collections keep landing inside the key encoding: the tier's old
 * helper, `generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' })`, froze such a child
 * within 10,000 keys in about 3 runs out of 4 (main thread waiting on a mutex it held itself),
 * so 20,000 keys catch a return of it nearly every time.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isWireguardKey, x25519PublicKey } from '../src/wireguard/keys.ts';
import { createRunner } from '../src/wireguard/run.ts';

const run = createRunner();
const KEYS = 20_000;
// About 8 s on this machine; a child that deadlocked is killed here and the test fails saying so.
const CHILD_TIMEOUT_MS = 30_000;

describe('x25519PublicKey', () => {
  it('makes distinct keys in the form wg prints', () => {
    const keys = Array.from({ length: 100 }, x25519PublicKey);
    for (const k of keys) expect(isWireguardKey(k)).toBe(true);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it(
    `makes ${KEYS} keys with a full garbage collection at every chance, without freezing`,
    async () => {
      const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
      const keys = new URL('../src/wireguard/keys.ts', import.meta.url).href;
      const script = [`import { x25519PublicKey } from ${JSON.stringify(keys)};`, `for (let i = 0; i < ${KEYS}; i++) x25519PublicKey();`, `console.log('made ${KEYS} keys');`].join('\n');
      const argv = [process.execPath, '--gc-global', '--import', tsx, '--input-type=module', '-e', script];
      expect((await run(argv, { timeoutMs: CHILD_TIMEOUT_MS })).trim()).toBe(`made ${KEYS} keys`);
    },
    CHILD_TIMEOUT_MS + 10_000,
  );
});
