// A test-only stand-in for PlanetScale's HTTP SQL API, backed by a real MySQL/MariaDB,
// so the real @planetscale/database driver (and kysely-planetscale) can be exercised.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import mysql, { type Pool, type PoolConnection } from 'mysql2/promise';
import { mysqlOptions, type MysqlTarget } from './databases.ts';
import { encodeResult, errorBody, sqlError } from './protocol.ts';

export { createDatabase, dropDatabase, type MysqlTarget } from './databases.ts';

export interface PsdbServerOptions {
  database: string;
  username?: string;
  password?: string;
  host?: string;
  port?: number;
  mysql?: MysqlTarget;
  /** Pinned transactions idle longer than this are rolled back (default 60 s). */
  idleTransactionMs?: number;
  /** Sees every statement with whether it ran inside a transaction: benchmarks count round trips with it. */
  onQuery?: (sql: string, inTransaction: boolean) => void;
}

export interface PsdbServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Opaque to the driver: it just echoes back whatever the last reply carried. */
interface Session {
  id: string;
  inTransaction: boolean;
  /** A `SET TRANSACTION ...` waiting for this session's next BEGIN. */
  nextTransaction?: string;
}

interface Pin {
  conn: PoolConnection;
  lastUsed: number;
  busy: number;
}

type Reply = { status: number; body: unknown };

const EXECUTE_PATH = '/psdb.v1alpha1.Database/Execute';
const SESSION_PATH = '/psdb.v1alpha1.Database/CreateSession';
const MAX_BODY_BYTES = 16 * 1024 * 1024;

const BEGIN_RE = /^(begin|start\s+transaction)\b/i;
// Anchored on purpose: `ROLLBACK TO SAVEPOINT x` keeps the transaction open.
const END_RE = /^(commit|rollback)(\s+work)?\s*;?$/i;
// kysely-planetscale sends this right before BEGIN; it only affects the next transaction.
const SET_TX_RE = /^set\s+transaction\b/i;

export async function startPsdbServer(opts: PsdbServerOptions): Promise<PsdbServer> {
  const username = opts.username ?? `u${randomBytes(6).toString('hex')}`;
  const password = opts.password ?? `p${randomBytes(12).toString('hex')}`;
  const idleMs = opts.idleTransactionMs ?? 60_000;
  const pool: Pool = mysql.createPool({
    ...mysqlOptions(opts.mysql),
    database: opts.database,
    connectionLimit: 20,
    multipleStatements: false,
    rowsAsArray: true,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    // PlanetScale ships MySQL's text representation untouched; raw bytes also keep
    // binary columns intact, which a string decode would not.
    typeCast: (field) => field.buffer(),
  });
  const pins = new Map<string, Pin>();

  async function execute(incoming: Session | null, sql: string, started: number): Promise<Reply> {
    opts.onQuery?.(sql, incoming?.inTransaction === true || Boolean(incoming?.nextTransaction));
    const id = incoming?.id ?? randomUUID();
    const stmt = sql.trim();
    const begins = BEGIN_RE.test(stmt);
    const ends = END_RE.test(stmt);
    let pin = pins.get(id);
    let nextTransaction: string | undefined;
    const session = (): Session => (nextTransaction ? { id, inTransaction: false, nextTransaction } : { id, inTransaction: pins.has(id) });
    const ok = (result: object): Reply => {
      const timing = (performance.now() - started) / 1000; // the driver multiplies by 1000 for `time` (ms)
      return { status: 200, body: { session: session(), result, timing } };
    };

    if (!pin && incoming?.inTransaction && !begins && !(ends && /^rollback/i.test(stmt))) {
      // The pinned connection was reaped; running on the pool would silently
      // escape the transaction the caller believes it is in.
      const message = `transaction for session ${id} no longer exists (idle timeout or server close); rolled back`;
      return { status: 200, body: { session: session(), ...errorBody('ABORTED', message) } };
    }
    if (!pin && ends) return ok({}); // COMMIT/ROLLBACK outside a transaction is a no-op in autocommit.
    if (!pin && SET_TX_RE.test(stmt)) {
      // On a pooled connection it would leak into some other caller's next transaction,
      // so hold it in the session and replay it on the connection BEGIN pins.
      nextTransaction = stmt;
      return ok({});
    }
    const pending = incoming?.nextTransaction;
    const replay = !pin && begins && pending && SET_TX_RE.test(pending) ? pending : undefined;
    if (!pin && begins) {
      pin = { conn: await pool.getConnection(), lastUsed: Date.now(), busy: 0 };
      pins.set(id, pin);
    }

    if (pin) pin.busy++;
    try {
      if (pin && replay) await pin.conn.query(replay);
      const [rows, fields] = await (pin ? pin.conn : pool).query(sql);
      return ok(encodeResult(rows, fields));
    } catch (err) {
      if (pin && ((err as { fatal?: boolean }).fatal || ends || begins)) {
        // A connection in an unknown transaction state must never go back to the pool;
        // closing it makes the server roll back whatever was open.
        pins.delete(id);
        pin.conn.destroy();
        pin = undefined;
      }
      // HTTP 200 with `error` (not 4xx) is what PlanetScale does: the driver then still
      // adopts the reply's session, which keeps a transaction usable after a failed statement.
      const error = sqlError(err, { database: opts.database, username, sql });
      return { status: 200, body: { session: session(), error } };
    } finally {
      if (pin) {
        pin.busy--;
        pin.lastUsed = Date.now();
        if (ends) {
          pins.delete(id);
          pin.conn.release();
        }
      }
    }
  }

  async function route(req: IncomingMessage): Promise<Reply> {
    const started = performance.now();
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path !== EXECUTE_PATH && path !== SESSION_PATH) {
      return { status: 404, body: errorBody('NOT_FOUND', `no route ${path}`) };
    }
    if (req.method !== 'POST') return { status: 405, body: errorBody('UNIMPLEMENTED', 'only POST is supported') };
    if (!authorized(req.headers.authorization, username, password)) {
      return { status: 401, body: errorBody('UNAUTHENTICATED', 'invalid username or password') };
    }
    const raw = await readBody(req);
    if (raw === null) return { status: 413, body: errorBody('RESOURCE_EXHAUSTED', 'request body too large') };
    let payload: unknown;
    try {
      payload = raw.length ? JSON.parse(raw) : {};
    } catch {
      return { status: 400, body: errorBody('INVALID_ARGUMENT', 'request body is not valid JSON') };
    }
    const body = (payload && typeof payload === 'object' ? payload : {}) as { query?: unknown; session?: unknown };
    const incoming = parseSession(body.session);
    if (path === SESSION_PATH) return { status: 200, body: { session: { id: randomUUID(), inTransaction: false } } };
    if (typeof body.query !== 'string' || !body.query.trim()) {
      return { status: 400, body: errorBody('INVALID_ARGUMENT', '"query" must be a non-empty string') };
    }
    return execute(incoming, body.query, started);
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    route(req)
      .catch((err: unknown): Reply => {
        return { status: 500, body: errorBody('INTERNAL', err instanceof Error ? err.message : String(err)) };
      })
      .then(({ status, body }) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      })
      .catch(() => res.destroy());
  });

  const reaper = setInterval(
    () => {
      const cutoff = Date.now() - idleMs;
      for (const [id, pin] of pins) {
        if (pin.busy === 0 && pin.lastUsed < cutoff) {
          pins.delete(id);
          pin.conn.destroy();
        }
      }
    },
    Math.max(50, Math.min(5_000, idleMs / 4)),
  );
  reaper.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const url = new URL(`http://${opts.host ?? '127.0.0.1'}:${port}`);
  url.username = username;
  url.password = password;
  return {
    url: url.toString().replace(/\/$/, ''),
    port,
    async close() {
      clearInterval(reaper);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // fetch keeps sockets alive; without this, close() waits for their idle timeout.
      server.closeAllConnections();
      for (const pin of pins.values()) pin.conn.destroy();
      pins.clear();
      await closed;
      await pool.end();
    },
  };
}

function parseSession(value: unknown): Session | null {
  if (!value || typeof value !== 'object') return null;
  const s = value as Partial<Session>;
  if (typeof s.id !== 'string') return null;
  const session: Session = { id: s.id, inTransaction: s.inTransaction === true };
  if (typeof s.nextTransaction === 'string') session.nextTransaction = s.nextTransaction;
  return session;
}

function authorized(header: string | undefined, username: string, password: string): boolean {
  const match = /^Basic\s+(.+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const given = Buffer.from(match[1], 'base64').toString('utf8');
  // The driver sends the URL's userinfo as-is, i.e. still percent-encoded.
  const url = new URL('http://h');
  url.username = username;
  url.password = password;
  return given === `${username}:${password}` || given === `${url.username}:${url.password}`;
}

async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
