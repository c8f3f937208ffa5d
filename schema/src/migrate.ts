import type { Kysely } from 'kysely';
import { isUniqueViolation } from './errors.ts';
import { migrations as allMigrations } from './migrations/index.ts';
import type { Dialect, Migration } from './migrations/index.ts';
import { tableOptions } from './migrations/helpers.ts';

/** Another instance is applying a migration right now; the caller should answer 503 and retry later. */
export class MigrationInProgressError extends Error {
  constructor(readonly migration: string) {
    super(`migration ${migration} is being applied by another instance`);
    this.name = 'MigrationInProgressError';
  }
}

export interface MigrateOptions {
  now?: () => number;
  /** A claim older than this is taken to belong to an instance that died mid-migration. */
  staleAfterMs?: number;
  migrations?: readonly Migration[];
}

/**
 * Applies every pending migration in order. Safe to call from many edge instances at once:
 * each migration is claimed by inserting its row first (the primary key lets one instance
 * win), and the losers raise MigrationInProgressError instead of running DDL twice.
 */
export async function migrateToLatest(
  // biome-ignore lint: the runner works below the typed schema.
  db: Kysely<any>,
  dialect: Dialect,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  const now = options.now ?? Date.now;
  const staleAfterMs = options.staleAfterMs ?? 5 * 60_000;
  const list = options.migrations ?? allMigrations;

  await tableOptions(
    db.schema
      .createTable('schema_migrations')
      .ifNotExists()
      .addColumn('name', 'varchar(191)', (c) => c.primaryKey())
      .addColumn('state', 'varchar(16)', (c) => c.notNull())
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('finished_at', 'bigint'),
    dialect,
  ).execute();

  const rows: { name: string; state: string; started_at: number | string }[] = await db.selectFrom('schema_migrations').select(['name', 'state', 'started_at']).execute();
  const known = new Map(rows.map((r) => [r.name, r]));
  const applied: string[] = [];

  for (const migration of list) {
    const row = known.get(migration.name);
    if (row?.state === 'done') continue;
    if (row) {
      if (now() - Number(row.started_at) < staleAfterMs) throw new MigrationInProgressError(migration.name);
      // The claimant died: take the claim over by replacing its row (compare-and-delete).
      await db.deleteFrom('schema_migrations').where('name', '=', migration.name).where('started_at', '=', row.started_at).execute();
    }
    try {
      await db.insertInto('schema_migrations').values({ name: migration.name, state: 'running', started_at: now(), finished_at: null }).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new MigrationInProgressError(migration.name);
      throw err;
    }
    try {
      await migration.up({ db, dialect });
    } catch (err) {
      // Release the claim so a fixed deploy can retry; DDL already run is reported, not hidden.
      await db.deleteFrom('schema_migrations').where('name', '=', migration.name).execute();
      throw err;
    }
    await db.updateTable('schema_migrations').set({ state: 'done', finished_at: now() }).where('name', '=', migration.name).execute();
    applied.push(migration.name);
  }
  return { applied };
}

/** True when every known migration is done; cheap enough to run once per isolate. */
export async function isUpToDate(
  // biome-ignore lint: the runner works below the typed schema.
  db: Kysely<any>,
  list: readonly Migration[] = allMigrations,
): Promise<boolean> {
  try {
    const rows: { name: string }[] = await db.selectFrom('schema_migrations').select('name').where('state', '=', 'done').execute();
    const done = new Set(rows.map((r) => r.name));
    return list.every((m) => done.has(m.name));
  } catch {
    return false;
  }
}
