import type { Compilable, CompiledQuery, Kysely } from 'kysely';
import type { Database, Dialect } from '@edgeport/schema';

/** The storage port the domain and store layers take: one kysely instance plus atomic batches. */
export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /**
   * Runs writes all-or-nothing. D1 has no interactive transactions, so the statements are
   * built up front (no reads between them) and sent as one D1 batch; on MySQL they run in a
   * transaction. This is how "never a half-written row" is kept on both drivers.
   */
  atomic(queries: readonly (Compilable | CompiledQuery)[]): Promise<void>;
}
