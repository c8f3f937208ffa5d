// The PlanetScale stand-in must behave like the real API as seen by the real driver;
// everything here goes driver -> HTTP -> test/psdb/server.ts -> MariaDB, no mocks.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, DatabaseError, type Connection } from '@planetscale/database';
import { Kysely, sql, type Generated } from 'kysely';
import { PlanetScaleDialect } from 'kysely-planetscale';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, dropDatabase, startPsdbServer, type PsdbServer } from './psdb/server.ts';

const database = `ep_test_psdb_${randomBytes(5).toString('hex')}`;
let server: PsdbServer;
let conn: Connection;

const errnoOf = (err: unknown) => Number(/\(errno (\d+)\)/.exec((err as Error).message)?.[1]);

async function rejection(p: Promise<unknown>): Promise<DatabaseError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DatabaseError);
  return err as DatabaseError;
}

beforeAll(async () => {
  await createDatabase(database);
  server = await startPsdbServer({ database });
  conn = connect({ url: server.url, fetch });
  await conn.execute(`CREATE TABLE kinds (
    id INT AUTO_INCREMENT PRIMARY KEY,
    tiny TINYINT, uint INT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED, amount DECIMAL(20,4), dbl DOUBLE,
    name VARCHAR(64), body TEXT, bytes BLOB, at DATETIME(3), day DATE, doc JSON, maybe INT NULL
  )`);
  await conn.execute('CREATE TABLE users (id BIGINT AUTO_INCREMENT PRIMARY KEY, email VARCHAR(191) NOT NULL UNIQUE)');
});

afterAll(async () => {
  await server?.close();
  await dropDatabase(database);
});

describe('psdb server with the real @planetscale/database driver', () => {
  it('round-trips values through the driver casts', async () => {
    const doc = { a: 1, nested: { list: [true, null, 'x'] } };
    const bytes = Uint8Array.from([0, 255, 1, 128, 10]);
    await conn.execute(
      `INSERT INTO kinds (tiny, uint, big, ubig, amount, dbl, name, body, bytes, at, day, doc, maybe)
       VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
      [-7, 4294967295, '9007199254740993', '18446744073709551615', '12345.6789', 1.5, 'héllo ✓ 😀', 'long\ntext', bytes, '2024-02-29 12:34:56.789', '2024-02-29', JSON.stringify(doc), null],
    );
    const res = await conn.execute('SELECT * FROM kinds');
    expect(res.rows).toHaveLength(1);
    expect(res.rows[0]).toEqual({
      id: 1,
      tiny: -7,
      uint: 4294967295,
      big: '9007199254740993',
      ubig: '18446744073709551615',
      amount: '12345.6789',
      dbl: 1.5,
      name: 'héllo ✓ 😀',
      body: 'long\ntext',
      bytes,
      at: '2024-02-29 12:34:56.789',
      day: '2024-02-29',
      doc,
      maybe: null,
    });
    expect(res.types).toMatchObject({
      id: 'INT32',
      tiny: 'INT8',
      uint: 'UINT32',
      big: 'INT64',
      ubig: 'UINT64',
      amount: 'DECIMAL',
      dbl: 'FLOAT64',
      name: 'VARCHAR',
      body: 'TEXT',
      bytes: 'BLOB',
      at: 'DATETIME',
      day: 'DATE',
      doc: 'JSON',
      maybe: 'INT32',
    });

    const exprs = await conn.execute("SELECT NULL AS nothing, 'x' AS str, 2 + 3 AS sum, x'00ff' AS raw", null, {
      as: 'array',
    });
    expect(exprs.rows).toEqual([[null, 'x', 5, Uint8Array.from([0, 255])]]);
  });

  it('reports rowsAffected and insertId like PlanetScale', async () => {
    const one = await conn.execute('INSERT INTO users (email) VALUES (?)', ['a@example.org']);
    expect(one.rowsAffected).toBe(1);
    expect(one.insertId).toBe('1');
    const two = await conn.execute('INSERT INTO users (email) VALUES (?), (?)', ['b@example.org', 'c@example.org']);
    expect(two.rowsAffected).toBe(2);
    expect(two.insertId).toBe('2'); // MySQL reports the first id of a multi-row insert
    const upd = await conn.execute("UPDATE users SET email = CONCAT('x', email) WHERE id > 1");
    expect(upd.rowsAffected).toBe(2);
    expect(upd.insertId).toBe('0');
    const sel = await conn.execute('SELECT id FROM users ORDER BY id');
    expect(sel.rowsAffected).toBe(0);
    expect(sel.rows.map((r) => r.id)).toEqual(['1', '2', '3']); // BIGINT stays a string
  });

  it('surfaces MySQL errors as DatabaseError with message, errno and Vitess code', async () => {
    await conn.execute('INSERT INTO users (email) VALUES (?)', ['dup@example.org']);
    const dup = await rejection(conn.execute('INSERT INTO users (email) VALUES (?)', ['dup@example.org']));
    expect(dup.message).toContain("Duplicate entry 'dup@example.org'");
    expect(errnoOf(dup)).toBe(1062);
    expect(dup.body.code).toBe('ALREADY_EXISTS');
    expect(dup.status).toBe(400);

    const syntax = await rejection(conn.execute('SELEC 1'));
    expect(errnoOf(syntax)).toBe(1064);
    const missing = await rejection(conn.execute('SELECT * FROM nope'));
    expect(errnoOf(missing)).toBe(1146);
    expect(missing.body.code).toBe('NOT_FOUND');
    // The server must still be serving after errors.
    expect((await conn.execute('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('commits a transaction', async () => {
    const ids = await conn.transaction(async (tx) => {
      const a = await tx.execute('INSERT INTO users (email) VALUES (?)', ['tx1@example.org']);
      const b = await tx.execute('INSERT INTO users (email) VALUES (?)', ['tx2@example.org']);
      return [a.insertId, b.insertId];
    });
    expect(ids).toHaveLength(2);
    const rows = await conn.execute("SELECT email FROM users WHERE email LIKE 'tx_@example.org' ORDER BY email");
    expect(rows.rows.map((r) => r.email)).toEqual(['tx1@example.org', 'tx2@example.org']);
  });

  it('rolls back a failed transaction and isolates uncommitted rows', async () => {
    const q = 'SELECT COUNT(*) AS n FROM users WHERE email = ?';
    const boom = new Error('boom');
    await expect(
      conn.transaction(async (tx) => {
        await tx.execute('INSERT INTO users (email) VALUES (?)', ['ghost@example.org']);
        expect((await tx.execute(q, ['ghost@example.org'])).rows[0]?.n).toBe('1');
        // A reader outside the transaction (its own session) must not see the row yet.
        expect((await conn.execute(q, ['ghost@example.org'])).rows[0]?.n).toBe('0');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await conn.execute(q, ['ghost@example.org'])).rows[0]?.n).toBe('0');

    // A SQL error inside the transaction must not lose the pinned connection either.
    await expect(
      conn.transaction(async (tx) => {
        await tx.execute('INSERT INTO users (email) VALUES (?)', ['ghost2@example.org']);
        await tx.execute('INSERT INTO users (email) VALUES (?)', ['a@example.org']);
      }),
    ).rejects.toThrow(/Duplicate entry/);
    expect((await conn.execute(q, ['ghost2@example.org'])).rows[0]?.n).toBe('0');
  });

  it('runs parallel transactions on separate connections', async () => {
    // Both transactions are held open until each has seen its connection id, so they overlap for sure.
    let arrive!: () => void;
    const bothIn = new Promise<void>((resolve) => {
      let count = 0;
      arrive = () => void (++count === 2 && resolve());
    });
    const run = (email: string) =>
      conn.transaction(async (tx) => {
        const id = (await tx.execute('SELECT CONNECTION_ID() AS cid')).rows[0]?.cid as unknown;
        await tx.execute('INSERT INTO users (email) VALUES (?)', [email]);
        arrive();
        await bothIn;
        expect((await tx.execute('SELECT CONNECTION_ID() AS cid')).rows[0]?.cid).toBe(id);
        return id;
      });
    const [a, b] = await Promise.all([run('par1@example.org'), run('par2@example.org')]);
    expect(a).not.toBeUndefined();
    expect(a).not.toBe(b);
    const rows = await conn.execute("SELECT COUNT(*) AS n FROM users WHERE email LIKE 'par_@example.org'");
    expect(rows.rows[0]?.n).toBe('2');
  });

  it('refuses wrong credentials and malformed requests', async () => {
    const url = new URL(server.url);
    url.password = 'wrong';
    const denied = await rejection(connect({ url: url.toString(), fetch }).execute('SELECT 1'));
    expect(denied.status).toBe(401);

    const good = new URL(server.url);
    const endpoint = `http://${good.host}/psdb.v1alpha1.Database/Execute`;
    const auth = `Basic ${btoa(`${good.username}:${good.password}`)}`;
    const bad = await fetch(endpoint, { method: 'POST', headers: { Authorization: auth }, body: '{not json' });
    expect(bad.status).toBe(400);
    expect((await bad.json()) as unknown).toMatchObject({ error: { code: 'INVALID_ARGUMENT' } });
    const noAuth = await fetch(endpoint, { method: 'POST', body: '{"query":"SELECT 1"}' });
    expect(noAuth.status).toBe(401);
    expect((await conn.execute('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('rolls back transactions left idle past the timeout', async () => {
    const quick = await startPsdbServer({ database, idleTransactionMs: 200 });
    try {
      const c = connect({ url: quick.url, fetch });
      await c.execute('BEGIN');
      await c.execute('INSERT INTO users (email) VALUES (?)', ['idle@example.org']);
      await sleep(800);
      const gone = await rejection(c.execute('COMMIT'));
      expect(gone.body.code).toBe('ABORTED');
      const after = await conn.execute("SELECT COUNT(*) AS n FROM users WHERE email = 'idle@example.org'");
      expect(after.rows[0]?.n).toBe('0');
    } finally {
      await quick.close();
    }
  });

  it('serves kysely-planetscale, including transactions with an isolation level', async () => {
    interface DB {
      users: { id: Generated<string>; email: string };
    }
    const db = new Kysely<DB>({ dialect: new PlanetScaleDialect({ url: server.url, fetch }) });
    const ins = await db.insertInto('users').values({ email: 'k1@example.org' }).executeTakeFirstOrThrow();
    expect(typeof ins.insertId).toBe('bigint');
    await db
      .transaction()
      .setIsolationLevel('serializable')
      .execute(async (trx) => {
        await trx.insertInto('users').values({ email: 'k2@example.org' }).execute();
        // The dialect sends SET TRANSACTION before BEGIN; it must land on the pinned connection.
        const own = await sql<{ level: string }>`SELECT trx_isolation_level AS level FROM information_schema.INNODB_TRX
          WHERE trx_mysql_thread_id = CONNECTION_ID()`.execute(trx);
        expect(own.rows).toEqual([{ level: 'SERIALIZABLE' }]);
      });
    const rows = await db.selectFrom('users').select('email').where('email', 'like', 'k_@example.org').orderBy('email').execute();
    expect(rows).toEqual([{ email: 'k1@example.org' }, { email: 'k2@example.org' }]);
    await db.destroy();
  });
});
