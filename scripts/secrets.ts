// `npm run secrets`: makes the portal's shared secrets (OAuth signing key, VPN CA) as env lines.
// `npm start` keeps them in .data/secrets.env; a deployment stores each with `wrangler secret put`.
import { generateKeyPairSync } from 'node:crypto';
import { createCa } from '../portal-worker/src/vpn/ca.ts';

export async function makeSecrets(): Promise<Record<string, string>> {
  // Encoded by the key generation itself: Node 20 can deadlock in KeyObject.export() under GC.
  const signing = generateKeyPairSync('ed25519', { privateKeyEncoding: { type: 'pkcs8', format: 'der' }, publicKeyEncoding: { type: 'spki', format: 'der' } }).privateKey.toString('base64');
  const ca = await createCa({ commonName: 'Edgeport VPN CA', notAfter: new Date(Date.now() + 10 * 365 * 86_400_000) });
  return {
    OAUTH_SIGNING_KEY: signing,
    VPN_CA_CERT: Buffer.from(ca.certPem).toString('base64'),
    VPN_CA_KEY: Buffer.from(ca.keyPkcs8Pem).toString('base64'),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop() as string)) {
  const secrets = await makeSecrets();
  for (const [k, v] of Object.entries(secrets)) process.stdout.write(`${k}=${v}\n`);
}
