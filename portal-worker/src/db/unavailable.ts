import { DatabaseError } from '@planetscale/database';
import type { CompiledQuery, DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';
import { PlanetScaleDialect } from 'kysely-planetscale';
import { AppError } from '../core/errors.ts';

/** Seconds an app or browser should wait before trying again: about one failover of the database. */
export const DB_RETRY_AFTER_S = 5;

/**
 * A database that does not answer is an outage of the service, not a bug in the request: the
 * caller gets 503 with Retry-After (an app retries, the admin sees "try again"), never a 500.
 * Logged, so the operator sees the outage with its cause; the response carries no detail.
 */
export function databaseUnavailable(cause: unknown): AppError {
  console.error(JSON.stringify({ level: 'error', msg: 'database unavailable', error: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) }));
  return new AppError('service_unavailable', 'The database cannot be reached right now; try again in a few seconds.', {
    headers: { 'Retry-After': String(DB_RETRY_AFTER_S) },
  });
}

/**
 * The PlanetScale driver's fetch: a request that got no answer at all (connection refused or
 * reset, DNS, TLS, a timeout) never reached the database, so it is an outage. Answers with an
 * HTTP status are judged in `transient` below, on the driver's own error.
 */
export function guardedFetch(fetchImpl: typeof fetch): typeof fetch {
  return async function databaseFetch(input, init) {
    try {
      return await fetchImpl(input, init);
    } catch (err) {
      throw databaseUnavailable(err);
    }
  };
}

/**
 * Driver errors that mean "not now" rather than "never": an HTTP 5xx or 429 (a proxy, the edge or
 * the API itself failing; a SQL error comes as 200 with an `error`), or Vitess' UNAVAILABLE (no
 * serving tablet, e.g. during a failover). Deadlocks are left alone: `atomic` retries those itself.
 */
export function isDatabaseOutage(err: unknown): boolean {
  if (!(err instanceof DatabaseError)) return false;
  const status = err.status ?? 0;
  return status >= 500 || status === 429 || (err.body as { code?: string } | undefined)?.code === 'UNAVAILABLE';
}

class GuardedConnection implements DatabaseConnection {
  /** The outage this connection ran into, if any: what a failed rollback after it really means. */
  outage: AppError | null = null;
  constructor(readonly inner: DatabaseConnection) {}

  async guard<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (err) {
      if (err instanceof AppError) throw (this.outage = err);
      if (isDatabaseOutage(err)) throw (this.outage = databaseUnavailable(err));
      throw err;
    }
  }

  executeQuery<R>(q: CompiledQuery): Promise<QueryResult<R>> {
    return this.guard(() => this.inner.executeQuery<R>(q));
  }

  streamQuery<R>(q: CompiledQuery, chunkSize: number): AsyncIterableIterator<QueryResult<R>> {
    // PlanetScale's driver cannot stream; passed through only to satisfy the interface.
    return this.inner.streamQuery<R>(q, chunkSize);
  }
}

const guarded = (c: DatabaseConnection) => c as GuardedConnection;

/** kysely-planetscale's driver with every call that reaches the database passed through the connection's guard. */
class GuardedDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  init() {
    return this.inner.init();
  }
  async acquireConnection() {
    return new GuardedConnection(await this.inner.acquireConnection());
  }
  beginTransaction(c: DatabaseConnection, settings: TransactionSettings) {
    return guarded(c).guard(() => this.inner.beginTransaction(guarded(c).inner, settings));
  }
  commitTransaction(c: DatabaseConnection) {
    return guarded(c).guard(() => this.inner.commitTransaction(guarded(c).inner));
  }
  /**
   * kysely rolls back after any failure and throws the rollback's error instead of the first one.
   * After an outage (a COMMIT that never arrived) the driver has already dropped the transaction
   * and says "No transaction to rollback": the outage is the truth, so that is what is thrown.
   * The database rolls the abandoned transaction back itself.
   */
  async rollbackTransaction(c: DatabaseConnection) {
    const conn = guarded(c);
    try {
      await conn.guard(() => this.inner.rollbackTransaction(conn.inner));
    } catch (err) {
      throw conn.outage ?? err;
    }
  }
  releaseConnection(c: DatabaseConnection) {
    return this.inner.releaseConnection(guarded(c).inner);
  }
  destroy() {
    return this.inner.destroy();
  }
}

/** The PlanetScale dialect whose outages surface as `service_unavailable` (see `databaseUnavailable`). */
export class GuardedPlanetScaleDialect extends PlanetScaleDialect {
  override createDriver(): Driver {
    return new GuardedDriver(super.createDriver());
  }
}
