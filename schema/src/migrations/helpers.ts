import { sql, type ColumnDefinitionBuilder, type CreateTableBuilder, type Kysely } from 'kysely';

export type Dialect = 'sqlite' | 'mysql';

/** Everything a migration may use. Migrations see `Kysely<any>`: they describe the past, not today's types. */
export interface MigrationContext {
  // biome-ignore lint: a migration must not depend on the current Database type.
  db: Kysely<any>;
  dialect: Dialect;
}

export interface Migration {
  /** Unique, sortable, never renamed once shipped. */
  name: string;
  up(ctx: MigrationContext): Promise<void>;
}

/**
 * MySQL's default collation compares case-insensitively, SQLite's does not. Ids, keys and
 * token hashes must compare the same way on both, so every MySQL table is utf8mb4_bin.
 */
export function tableOptions<T extends string, C extends string>(builder: CreateTableBuilder<T, C>, dialect: Dialect): CreateTableBuilder<T, C> {
  return dialect === 'mysql' ? builder.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`) : builder;
}

/**
 * Foreign keys are declared on SQLite/D1 only (which enforces them), because PlanetScale
 * databases commonly run without foreign-key support. The store layer deletes children in
 * code on both dialects; on D1 the constraint (no cascade) makes a forgotten child fail loudly.
 */
export function references(dialect: Dialect, target: string) {
  return (col: ColumnDefinitionBuilder) => (dialect === 'sqlite' ? col.references(target) : col);
}
export const ID = 'varchar(255)';
