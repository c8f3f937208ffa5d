// Throwaway databases for tests, created and dropped over a direct (non-HTTP) MySQL connection.
import mysql, { type PoolOptions } from 'mysql2/promise';

export interface MysqlTarget {
  host?: string;
  port?: number;
  user?: string;
  password?: string;
}

const TEST_DB_NAME = /^ep_test_[a-z0-9_]+$/;

export function mysqlOptions(target: MysqlTarget = {}): PoolOptions {
  return {
    host: target.host ?? '127.0.0.1',
    port: target.port ?? 3306,
    user: target.user ?? 'root',
    password: target.password ?? '',
  };
}

async function withAdmin<T>(target: MysqlTarget | undefined, fn: (c: mysql.Connection) => Promise<T>): Promise<T> {
  const conn = await mysql.createConnection(mysqlOptions(target));
  try {
    return await fn(conn);
  } finally {
    await conn.end();
  }
}

function checkName(name: string): void {
  // The name is interpolated into DDL and DROP is destructive: keep it to throwaway test databases.
  if (!TEST_DB_NAME.test(name)) {
    throw new Error(`refusing database name ${JSON.stringify(name)}: must match ${TEST_DB_NAME}`);
  }
}

export async function createDatabase(name: string, target?: MysqlTarget): Promise<void> {
  checkName(name);
  await withAdmin(target, (c) => c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`));
}

export async function dropDatabase(name: string, target?: MysqlTarget): Promise<void> {
  checkName(name);
  await withAdmin(target, (c) => c.query(`DROP DATABASE IF EXISTS \`${name}\``));
}
