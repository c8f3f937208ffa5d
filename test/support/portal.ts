import { makeSecrets } from '../../scripts/secrets.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_startWorker } from 'wrangler';

const ROOT = new URL('../..', import.meta.url).pathname;
export const SETUP_TOKEN = 'black-box-setup-token-0123456789';

export interface Portal {
  origin: string;
  /**
   * The secrets the portal was started with (what `npm run secrets` makes; VPN_CA_CERT and
   * VPN_CA_KEY are base64 of PEM), so a test can act as a node the portal's CA signed for.
   */
  secrets: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

/**
 * The real portal in workerd on a loopback port, from the real wrangler.toml, with its own
 * fresh storage folder: what `npm start` runs, minus the console.
 */
export async function startPortal(vars: Record<string, string> = {}): Promise<Portal> {
  const persist = mkdtempSync(join(tmpdir(), 'edgeport-portal-'));
  // A caller's `vars` may replace a generated secret; `secrets` reports what the portal really got.
  const secrets = Object.fromEntries(Object.entries(await makeSecrets()).map(([k, v]) => [k, vars[k] ?? v]));
  const bindings: Record<string, { type: 'secret_text'; value: string }> = {};
  for (const [k, v] of Object.entries({ ...secrets, SETUP_TOKEN, ...vars })) bindings[k] = { type: 'secret_text', value: v };
  const worker = await unstable_startWorker({
    config: join(ROOT, 'wrangler.toml'),
    bindings,
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, persist, logLevel: 'warn', watch: false, remote: false },
  });
  await worker.ready;
  const url = await worker.url;
  return {
    origin: url.origin,
    secrets,
    async stop() {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
