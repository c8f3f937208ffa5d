import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { hashPassword } from '../src/auth/password.ts';
import { d1Db, planetscaleDb } from '../src/db/connect.ts';
import { ensureSchema } from '../src/db/ensure-schema.ts';
import type { Db } from '../src/core/db.ts';
import { app } from '../src/app.ts';
import { createLocalUser } from '../src/store/users.ts';

/** workerd implements Headers.getSetCookie; the bundled type definitions lag behind it. */
export function setCookies(res: Response): string[] {
  return (res.headers as unknown as { getSetCookie(): string[] }).getSetCookie();
}

export type Driver = 'd1' | 'planetscale';
export const DRIVERS: Driver[] = ['d1', 'planetscale'];

// One env object per driver: config and database handles are cached per env identity, as in production.
const envs: Record<Driver, Cloudflare.Env> = {
  d1: env,
  planetscale: { ...env, DB_DRIVER: 'planetscale', DATABASE_URL: env.PSDB_URL },
};
const dbs: Partial<Record<Driver, Db>> = {};

const overridden = new Map<string, Cloudflare.Env>();

/** The env of a driver, optionally with some vars changed (one object per combination, like production). */
export function envFor(driver: Driver, vars: Record<string, string> = {}): Cloudflare.Env {
  if (!Object.keys(vars).length) return envs[driver];
  const key = `${driver}:${JSON.stringify(vars)}`;
  let e = overridden.get(key);
  if (!e) overridden.set(key, (e = { ...envs[driver], ...vars }));
  return e;
}

/** The same database handle the app uses, for arranging and inspecting state. */
export async function dbFor(driver: Driver): Promise<Db> {
  const db = (dbs[driver] ??= driver === 'd1' ? d1Db(env.DB as D1Database) : planetscaleDb(env.PSDB_URL));
  await ensureSchema(db);
  return db;
}

let counter = 0;
export function unique(prefix: string): string {
  return `${prefix}${Date.now().toString(36)}${(counter++).toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export const PASSWORD = 'correct horse battery staple';

export async function makeUser(driver: Driver, opts: { admin?: boolean; permissions?: string[]; id?: string } = {}): Promise<string> {
  const id = opts.id ?? unique(opts.admin ? 'admin' : 'user');
  await createLocalUser(await dbFor(driver), { id, displayName: null, passwordHash: await hashPassword(PASSWORD), isAdmin: opts.admin ?? false, permissions: opts.permissions ?? [] }, Date.now(), {
    actorUserId: null,
    requestId: 'test',
  });
  return id;
}

/** A cookie-keeping client that calls the real app's fetch handler inside workerd. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(
    readonly driver: Driver = 'd1',
    readonly ip = `198.51.100.${Math.floor(Math.random() * 250) + 1}`,
    readonly origin = 'http://portal.test',
    readonly vars: Record<string, string> = {},
  ) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    if (!headers.has('cf-connecting-ip')) headers.set('cf-connecting-ip', this.ip);
    const ctx = createExecutionContext();
    const res = await app.fetch(new Request(this.origin + path, { ...init, headers, redirect: 'manual' }), envFor(this.driver, this.vars), ctx);
    await waitOnExecutionContext(ctx);
    for (const line of setCookies(res)) {
      const [pair = '', ...attrs] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const expired = attrs.some((a) => /^\s*max-age=0\s*$/i.test(a));
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(eq + 1).trim());
    }
    return res;
  }

  /** Reads the CSRF token from a page's form, as a browser would submit it. */
  async csrf(path = '/login'): Promise<string> {
    const html = await (await this.fetch(path)).text();
    const m = html.match(/name="_csrf" value="([^"]+)"/);
    if (!m?.[1]) throw new Error(`no CSRF field on ${path}`);
    return m[1];
  }

  async login(user: string, password = PASSWORD): Promise<Response> {
    const token = await this.csrf('/login');
    return this.form('/login', { _csrf: token, user, password, next: '/' });
  }

  form(path: string, fields: Record<string, string>): Promise<Response> {
    return this.fetch(path, { method: 'POST', body: new URLSearchParams(fields) });
  }

  /** A JSON API call with the CSRF header a same-site script would send. */
  async api(method: string, path: string, body?: unknown, token?: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (method !== 'GET') headers['x-csrf-token'] = token ?? (await this.csrf('/'));
    return this.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  }
}

export async function signedIn(driver: Driver, opts: { admin?: boolean; permissions?: string[]; vars?: Record<string, string> } = {}): Promise<{ browser: Browser; id: string }> {
  const id = await makeUser(driver, opts);
  const browser = new Browser(driver, undefined, undefined, opts.vars);
  const r = await browser.login(id);
  if (r.status !== 303) throw new Error(`login failed: ${r.status} ${await r.text()}`);
  return { browser, id };
}
