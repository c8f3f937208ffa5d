import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Miniflare } from 'miniflare';

export const ORIGIN = 'http://bench.test';
export const SETUP_TOKEN = 'bench-setup-token-0123456789';

/**
 * The production bundle in workerd through Miniflare's API (not `wrangler dev`, which logs and
 * proxies every request), with the bindings wrangler.toml declares: a fresh D1 per instance,
 * the two Durable Object classes on SQLite storage.
 */
export function portalMiniflare(bundle: string, bindings: Record<string, string>, opts: { d1Name?: string; listen?: boolean } = {}): Miniflare {
  return new Miniflare({
    modules: [{ type: 'ESModule', path: join(bundle, 'index.js') }],
    modulesRoot: bundle,
    compatibilityDate: '2026-04-01',
    compatibilityFlags: ['nodejs_compat'],
    ...(opts.listen ? { host: '127.0.0.1', port: 0 } : {}),
    d1Databases: { DB: opts.d1Name ?? `bench-${randomBytes(4).toString('hex')}` },
    durableObjects: { THROTTLE: { className: 'LoginThrottle', useSQLite: true }, NODE_CHANNEL: { className: 'NodeChannel', useSQLite: true } },
    bindings: { SETUP_TOKEN, ...bindings },
  });
}

/** A cookie-keeping browser over dispatchFetch. */
export class Session {
  cookies = new Map<string, string>();
  constructor(readonly mf: Miniflare) {}
  async fetch(path: string, init: RequestInit = {}) {
    const headers = new Headers(init.headers as HeadersInit);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const r = await this.mf.dispatchFetch(ORIGIN + path, { ...(init as object), headers, redirect: 'manual' } as never);
    for (const line of r.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? '';
      this.cookies.set(pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1));
    }
    return r;
  }
  async csrf(path: string) {
    return (await (await this.fetch(path)).text()).match(/name="_csrf" value="([^"]+)"/)?.[1] as string;
  }
  async login(user: string, password: string) {
    const r = await this.fetch('/login', { method: 'POST', body: new URLSearchParams({ _csrf: await this.csrf('/login'), user, password, next: '/' }) });
    if (r.status !== 303 && r.status !== 302) throw new Error(`login ${user}: ${r.status}`);
  }
}
