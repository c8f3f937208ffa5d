import { randomBytes } from 'node:crypto';
import { Kysely, sql } from 'kysely';
import { D1Dialect } from 'kysely-d1';
import { PlanetScaleDialect } from 'kysely-planetscale';
import { Miniflare } from 'miniflare';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigrationInProgressError, migrateToLatest, migrations, type Migration } from '@edgeport/schema';
import { castSafeIntegers } from '../portal-worker/src/db/planetscale-cast.ts';
import { createDatabase, dropDatabase, startPsdbServer, type PsdbServer } from './psdb/server.ts';

// biome-ignore lint: schema introspection works below the typed schema.
type AnyDb = Kysely<any>;

let mf: Miniflare;
let psdb: PsdbServer;
const database = `ep_test_migr_${randomBytes(4).toString('hex')}`;

beforeAll(async () => {
  // Real D1 (workerd's SQLite) through Miniflare's API; real MariaDB through the real PlanetScale driver.
  mf = new Miniflare({ modules: true, script: 'export default { fetch() { return new Response(null) } }', d1Databases: ['DB', 'DB2'] });
  await createDatabase(database);
  psdb = await startPsdbServer({ database });
});

afterAll(async () => {
  await mf?.dispose();
  await psdb?.close();
  await dropDatabase(database);
});

async function d1(name = 'DB'): Promise<AnyDb> {
  return new Kysely({ dialect: new D1Dialect({ database: (await mf.getD1Database(name)) as never }) });
}
function mysql(): AnyDb {
  return new Kysely({ dialect: new PlanetScaleDialect({ url: psdb.url, fetch, cast: castSafeIntegers }) });
}

/** The schema as text, normalised so only real changes show: one statement per table and index. */
async function sqliteSchema(db: AnyDb): Promise<string> {
  const rows = await db.selectFrom('sqlite_master').select(['type', 'name', 'sql']).where('name', 'not like', 'sqlite_%').where('name', 'not like', '_cf_%').orderBy('type').orderBy('name').execute();
  return rows.map((r: { sql: string | null; type: string; name: string }) => `${r.sql ?? `-- ${r.type} ${r.name}`};`).join('\n') + '\n';
}

async function mysqlSchema(db: AnyDb): Promise<string> {
  const tables = await db.selectFrom('information_schema.TABLES').select('TABLE_NAME as name').where('TABLE_SCHEMA', '=', database).orderBy('TABLE_NAME').execute();
  const out: string[] = [];
  for (const { name } of tables as { name: string }[]) {
    const r = await sql<{ 'Create Table': string }>`show create table ${sql.id(name)}`.execute(db);
    out.push(`${(r.rows[0]?.['Create Table'] ?? '').replace(/ AUTO_INCREMENT=\d+/, '')};`);
  }
  return out.join('\n') + '\n';
}

describe('migrations', () => {
  it('are listed once each, in order', () => {
    const names = migrations.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(names);
  });

  it('build the committed schema on D1', async () => {
    const db = await d1();
    expect((await migrateToLatest(db, 'sqlite')).applied).toEqual(migrations.map((m) => m.name));
    await expect(await sqliteSchema(db)).toMatchFileSnapshot('./__snapshots__/schema.sqlite.sql');
    // Applying again is a no-op.
    expect((await migrateToLatest(db, 'sqlite')).applied).toEqual([]);
  });

  it('build the committed schema on MariaDB through the PlanetScale driver', async () => {
    const db = mysql();
    expect((await migrateToLatest(db, 'mysql')).applied).toEqual(migrations.map((m) => m.name));
    await expect(await mysqlSchema(db)).toMatchFileSnapshot('./__snapshots__/schema.mysql.sql');
    expect((await migrateToLatest(db, 'mysql')).applied).toEqual([]);
  });

  it('let only one instance run a migration, and take over a claim left by a dead one', async () => {
    const db = await d1('DB2');
    await migrateToLatest(db, 'sqlite');
    let runs = 0;
    const extra: Migration = {
      name: '9999_test_extra',
      async up({ db: mdb }) {
        runs++;
        await new Promise((r) => setTimeout(r, 200));
        await mdb.schema.createTable('extra_test').addColumn('x', 'integer').execute();
      },
    };
    const list = [...migrations, extra];
    const results = await Promise.allSettled([migrateToLatest(db, 'sqlite', { migrations: list }), migrateToLatest(db, 'sqlite', { migrations: list })]);
    expect(runs).toBe(1);
    expect(results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason)).toEqual([expect.any(MigrationInProgressError)]);

    // A claim from an instance that died mid-way blocks until it is stale, then is taken over.
    const dead: Migration = {
      name: '9999_test_dead',
      async up({ db: mdb }) {
        await mdb.schema.createTable('dead_test').addColumn('x', 'integer').execute();
      },
    };
    await db.insertInto('schema_migrations').values({ name: dead.name, state: 'running', started_at: 1_000, finished_at: null }).execute();
    await expect(migrateToLatest(db, 'sqlite', { migrations: [...list, dead], now: () => 2_000, staleAfterMs: 60_000 })).rejects.toBeInstanceOf(MigrationInProgressError);
    expect((await migrateToLatest(db, 'sqlite', { migrations: [...list, dead], now: () => 100_000, staleAfterMs: 60_000 })).applied).toEqual([dead.name]);
  });

  it('release the claim of a migration that fails, so a fixed deploy can retry', async () => {
    const db = mysql();
    await migrateToLatest(db, 'mysql');
    const broken: Migration = {
      name: '9999_test_broken',
      async up() {
        throw new Error('bad migration');
      },
    };
    await expect(migrateToLatest(db, 'mysql', { migrations: [...migrations, broken] })).rejects.toThrow('bad migration');
    const left = await db.selectFrom('schema_migrations').select('name').where('name', '=', broken.name).execute();
    expect(left).toEqual([]);
  });
});
