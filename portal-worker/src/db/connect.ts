import { castSafeIntegers } from './planetscale-cast.ts';
import { type CompiledQuery, Kysely, SqliteAdapter, type Compilable } from 'kysely';
import { D1Dialect } from 'kysely-d1';
import { isTransientTxError, type Database } from '@edgeport/schema';
import type { Config } from '../config/config.ts';
import type { Bindings } from '../bindings.ts';
import type { Db } from '../core/db.ts';
import { GuardedPlanetScaleDialect, guardedFetch } from './unavailable.ts';

function compiled(q: Compilable | CompiledQuery): CompiledQuery {
  return 'compile' in q ? q.compile() : q;
}

/**
 * kysely serialises every query of an instance behind one lock when the adapter says it cannot
 * take several connections, which the SQLite adapter says. A D1 binding takes concurrent queries
 * (and we never hold an interactive transaction on it), and under that lock one request waited on
 * another's I/O, which workerd cancels as hung. So D1 gets an adapter without the lock.
 */
class ConcurrentD1Adapter extends SqliteAdapter {
  override get supportsMultipleConnections(): boolean {
    return true;
  }
}

class EdgeD1Dialect extends D1Dialect {
  override createAdapter() {
    return new ConcurrentD1Adapter();
  }
}

export function d1Db(binding: D1Database): Db {
  const kysely = new Kysely<Database>({ dialect: new EdgeD1Dialect({ database: binding }) });
  return {
    kysely,
    dialect: 'sqlite',
    async atomic(queries) {
      if (queries.length === 0) return;
      await binding.batch(
        queries.map((q) => {
          const c = compiled(q);
          return binding.prepare(c.sql).bind(...(c.parameters as unknown[]));
        }),
      );
    },
  };
}

const TX_ATTEMPTS = 5;

export function planetscaleDb(url: string, fetchImpl: typeof fetch = fetch): Db {
  // The driver is told to use the runtime's fetch; kysely-planetscale builds its own Client from this config.
  // Both are guarded: an unreachable database is a 503 with Retry-After, not a 500 (unavailable.ts).
  const config = { url, fetch: guardedFetch(fetchImpl), cast: castSafeIntegers };
  const kysely = new Kysely<Database>({ dialect: new GuardedPlanetScaleDialect(config) });
  return {
    kysely,
    dialect: 'mysql',
    async atomic(queries) {
      if (queries.length === 0) return;
      const list = queries.map(compiled);
      // READ COMMITTED: our writes are keyed lookups, and it spares the gap locks under which
      // concurrent allocations on one range deadlock. A deadlock victim is retried whole.
      for (let attempt = 1; ; attempt++) {
        try {
          await kysely
            .transaction()
            .setIsolationLevel('read committed')
            .execute(async (tx) => {
              for (const q of list) await tx.executeQuery(q);
            });
          return;
        } catch (err) {
          if (attempt >= TX_ATTEMPTS || !isTransientTxError(err)) throw err;
          await new Promise((r) => setTimeout(r, Math.random() * 20 * attempt));
        }
      }
    },
  };
}

// One Db per binding/URL per isolate: the kysely instance is cheap but stateless, so reuse it.
const byBinding = new WeakMap<object, Db>();
const byUrl = new Map<string, Db>();

export function dbFor(env: Bindings, config: Config): Db {
  if (config.dbDriver === 'planetscale') {
    const url = config.databaseUrl as string;
    let db = byUrl.get(url);
    if (!db) byUrl.set(url, (db = planetscaleDb(url)));
    return db;
  }
  if (!env.DB) throw new Error('DB_DRIVER=d1 needs the D1 binding "DB" (see wrangler.toml)');
  let db = byBinding.get(env.DB);
  if (!db) byBinding.set(env.DB, (db = d1Db(env.DB)));
  return db;
}
