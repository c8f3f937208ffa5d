import { ConfigError, type Config } from '../config/config.ts';
import { loadCa, type Ca } from '../vpn/ca.ts';

// The CA is parsed once per isolate; the key itself only ever comes from the shared secret.
const cache = new Map<string, Promise<Ca>>();

export function vpnCa(config: Config): Promise<Ca> {
  const { caCert, caKey } = config.vpn;
  if (!caCert || !caKey) throw new ConfigError('the VPN_CA_CERT and VPN_CA_KEY secrets are not set (see infra/README.md, `npm run secrets`)');
  const key = `${caCert}\n${caKey}`;
  let hit = cache.get(key);
  if (!hit) {
    hit = loadCa(caCert, caKey);
    cache.set(key, hit);
    hit.catch(() => cache.delete(key));
  }
  return hit;
}
