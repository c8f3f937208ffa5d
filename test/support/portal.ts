import { makeSecrets } from '../../scripts/secrets.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unstable_startWorker } from 'wrangler';

const ROOT = new URL('../..', import.meta.url).pathname;
export const SETUP_TOKEN = 'black-box-setup-token-0123456789';

export interface Portal {
  origin: string;
  stop(): Promise<void>;
}

/**
 * The real portal in workerd on a loopback port, from the real wrangler.toml, with its own
 * fresh storage folder: what `npm start` runs, minus the console.
 */
export async function startPortal(vars: Record<string, string> = {}): Promise<Portal> {
  const persist = mkdtempSync(join(tmpdir(), 'edgeport-portal-'));
  const bindings: Record<string, { type: 'secret_text'; value: string }> = {};
  for (const [k, v] of Object.entries({ ...(await makeSecrets()), SETUP_TOKEN, ...vars })) bindings[k] = { type: 'secret_text', value: v };
  const worker = await unstable_startWorker({
    config: join(ROOT, 'wrangler.toml'),
    bindings,
    dev: { server: { hostname: '127.0.0.1', port: 0 }, inspector: false, persist, logLevel: 'warn', watch: false, remote: false },
  });
  await worker.ready;
  const url = await worker.url;
  return {
    origin: url.origin,
    async stop() {
      await worker.dispose();
      rmSync(persist, { recursive: true, force: true });
    },
  };
}
