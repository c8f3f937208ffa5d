/**
 * A portal that can be stopped and started again on the same storage and port, and run twice
 * on one database: what outage and HA tests need and `startPortal` (fresh folder, deleted on
 * stop) does not give. The caller owns `persist` and deletes it.
 */
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { unstable_startWorker } from 'wrangler';
import { makeSecrets } from '../../scripts/secrets.ts';
import { SETUP_TOKEN } from './portal.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface PortalInstanceOptions {
  /** Local Durable Object (and D1) storage; kept across stop/start. */
  persist: string;
  /** Secrets and vars, as bindings; every instance of one service gets the same ones. */
  bindings: Record<string, string>;
  port?: number;
}

export interface PortalInstance {
  readonly origin: string;
  readonly port: number;
  running(): boolean;
  /** Stops the worker; storage stays. */
  stop(): Promise<void>;
  /** Starts it again on the same port and storage. */
  start(): Promise<void>;
}

/** The secrets `npm run secrets` makes, plus the black-box SETUP_TOKEN: one set per service. */
export async function serviceSecrets(): Promise<Record<string, string>> {
  return { ...(await makeSecrets()), SETUP_TOKEN };
}

/** A free loopback port (bound and released; the portal takes it a moment later). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export async function startPortalInstance(o: PortalInstanceOptions): Promise<PortalInstance> {
  const port = o.port ?? (await freePort());
  const bindings: Record<string, { type: 'secret_text'; value: string }> = {};
  for (const [k, v] of Object.entries(o.bindings)) bindings[k] = { type: 'secret_text', value: v };
  let worker: Awaited<ReturnType<typeof unstable_startWorker>> | null = null;

  const start = async () => {
    if (worker) return;
    const w = await unstable_startWorker({
      config: join(ROOT, 'wrangler.toml'),
      bindings,
      dev: { server: { hostname: '127.0.0.1', port }, inspector: false, persist: o.persist, logLevel: 'warn', watch: false, remote: false },
    });
    await w.ready;
    worker = w;
  };
  await start();
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    running: () => worker !== null,
    async stop() {
      const w = worker;
      worker = null;
      await w?.dispose();
    },
    start,
  };
}
