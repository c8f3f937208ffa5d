import { env } from 'cloudflare:workers';
import { DatabaseError } from '@planetscale/database';
import { describe, expect, it } from 'vitest';
import { planetscaleDb } from '../src/db/connect.ts';
import { DB_RETRY_AFTER_S, isDatabaseOutage } from '../src/db/unavailable.ts';
import { AppError } from '../src/core/errors.ts';
import { Browser, dbFor } from './helpers.ts';

// Nothing listens on port 1 of loopback: a real connection refusal, the way an unreachable
// database API looks to the driver (the e2e tier also cuts a live link mid-transaction).
const DEAD_URL = 'http://someone:secret@127.0.0.1:1';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('a database that does not answer (PlanetScale driver)', () => {
  it('turns a query and a transaction into service_unavailable with Retry-After, at once (no retry loop)', async () => {
    const db = planetscaleDb(DEAD_URL);
    for (const attempt of [() => db.kysely.selectFrom('users').selectAll().execute(), () => db.atomic([db.kysely.deleteFrom('users').where('id', '=', 'nobody')])]) {
      const started = Date.now();
      const err = await rejection(attempt());
      expect(err).toBeInstanceOf(AppError);
      expect(err).toMatchObject({ code: 'service_unavailable', status: 503, headers: { 'Retry-After': String(DB_RETRY_AFTER_S) } });
      expect(Date.now() - started).toBeLessThan(2_000);
    }
  });

  it('answers /api/v3 in the eduVPN error shape, /oauth/token as RFC 6749 temporarily_unavailable, JSON APIs as a problem document, all 503 with Retry-After', async () => {
    const browser = new Browser('planetscale', undefined, undefined, { DATABASE_URL: DEAD_URL });
    const connect = await browser.fetch('/api/v3/connect', {
      method: 'POST',
      headers: { authorization: 'Bearer some-token', 'content-type': 'application/x-www-form-urlencoded' },
      body: 'profile_id=x',
    });
    expect(connect.status).toBe(503);
    expect(connect.headers.get('retry-after')).toBe(String(DB_RETRY_AFTER_S));
    expect(await connect.json()).toEqual({ error: expect.stringContaining('try again') });

    const token = await browser.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=refresh_token&refresh_token=x&client_id=y',
    });
    expect(token.status).toBe(503);
    expect(token.headers.get('cache-control')).toBe('no-store');
    expect(token.headers.get('retry-after')).toBe(String(DB_RETRY_AFTER_S));
    expect(await token.json()).toMatchObject({ error: 'temporarily_unavailable' });

    const admin = await browser.fetch('/admin/api/users', { headers: { accept: 'application/json' } });
    expect(admin.status).toBe(503);
    expect(admin.headers.get('content-type')).toBe('application/problem+json');
    const problem = await admin.json<Record<string, unknown>>();
    expect(problem).toMatchObject({ status: 503, code: 'service_unavailable' });
    // The outage's cause (host, port, driver message) is logged, never shown.
    expect(JSON.stringify(problem)).not.toContain('127.0.0.1');
  });

  it('keeps faults that are not outages as they were: a wrong password is a 500 (a deployment error), a SQL error stays a DatabaseError', async () => {
    const wrong = new URL(env.PSDB_URL);
    wrong.password = 'not-the-password';
    const r = await new Browser('planetscale', undefined, undefined, { DATABASE_URL: wrong.toString() }).fetch('/admin/api/users', { headers: { accept: 'application/json' } });
    expect(r.status).toBe(500);

    const db = await dbFor('planetscale');
    const err = await rejection(
      db.kysely
        .selectFrom('no_such_table' as 'users')
        .selectAll()
        .execute(),
    );
    expect(err).toBeInstanceOf(DatabaseError);
    expect(err).not.toBeInstanceOf(AppError);
  });

  it('tells outages from other driver errors by status and Vitess code', () => {
    expect(isDatabaseOutage(new DatabaseError('Expected JSON response from database API, got HTTP 503', 503, { code: 'UNKNOWN', message: '' }))).toBe(true);
    expect(isDatabaseOutage(new DatabaseError('rate limited', 429, { code: 'UNKNOWN', message: '' }))).toBe(true);
    expect(isDatabaseOutage(new DatabaseError('no serving tablet', 400, { code: 'UNAVAILABLE', message: '' }))).toBe(true);
    expect(isDatabaseOutage(new DatabaseError('Duplicate entry (errno 1062)', 400, { code: 'ALREADY_EXISTS', message: '' }))).toBe(false);
    expect(isDatabaseOutage(new DatabaseError('Deadlock found (errno 1213)', 400, { code: 'ABORTED', message: '' }))).toBe(false);
    expect(isDatabaseOutage(new DatabaseError('invalid username or password', 401, { code: 'UNAUTHENTICATED', message: '' }))).toBe(false);
    expect(isDatabaseOutage(new TypeError('x is not a function'))).toBe(false);
  });
});
