import { isUpToDate, migrateToLatest, MigrationInProgressError } from '@edgeport/schema';
import { AppError } from '../core/errors.ts';
import type { Db } from '../core/db.ts';

// Checked once per isolate per database: after that, requests pay nothing for it.
const ready = new WeakMap<Db, Promise<void>>();

/**
 * The portal migrates its own database on the first request of an isolate (as Headscale does
 * at start-up), so `wrangler deploy` plus one request is a complete upgrade on every driver.
 * Concurrent isolates are safe: see migrateToLatest's claim rows.
 */
export function ensureSchema(db: Db): Promise<void> {
  let p = ready.get(db);
  if (!p) {
    p = (async () => {
      if (await isUpToDate(db.kysely)) return;
      const { applied } = await migrateToLatest(db.kysely, db.dialect);
      if (applied.length) console.log(JSON.stringify({ level: 'info', msg: 'migrations applied', applied }));
    })();
    ready.set(db, p);
    // A failed attempt must not poison the isolate: the next request tries again.
    p.catch(() => ready.delete(db));
  }
  return p.catch((err: unknown) => {
    if (err instanceof MigrationInProgressError) {
      throw new AppError('service_unavailable', 'The database is being upgraded; try again in a few seconds.', {
        headers: { 'Retry-After': '5' },
      });
    }
    throw err;
  });
}
