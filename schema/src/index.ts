export * from './database.ts';
export { isTransientTxError, isUniqueViolation } from './errors.ts';
export { migrateToLatest, isUpToDate, MigrationInProgressError } from './migrate.ts';
export { migrations } from './migrations/index.ts';
export type { Dialect, Migration, MigrationContext } from './migrations/index.ts';
export * from './protocol.ts';
