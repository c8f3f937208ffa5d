import type { Migration } from './helpers.ts';
import { tableOptions } from './helpers.ts';

/** Single sign-on with OpenID Connect: one-time login states, and where a user's permissions came from. */
export const m0006_sso: Migration = {
  name: '0006_sso',
  async up({ db, dialect }) {
    // NULL = a local or admin-created user; else the id of the provider that created the user
    // (the only one that may sign them in). permissions_at dates the permissions a provider last
    // gave, for the optional recheck on /api/v3/connect.
    await db.schema.alterTable('users').addColumn('auth_provider', 'varchar(64)').execute();
    await db.schema.alterTable('users').addColumn('permissions_at', 'bigint').execute();

    // One row per login started at a provider, keyed by the SHA-256 of the `state` parameter and
    // bound to the browser by the hash of a cookie; consumed with a compare-and-set on used_at.
    // The nonce and PKCE verifier are kept as they are: the callback has to send or compare them.
    await tableOptions(
      db.schema
        .createTable('sso_states')
        .addColumn('state_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('provider_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('browser_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('nonce', 'varchar(255)', (c) => c.notNull())
        .addColumn('code_verifier', 'varchar(255)', (c) => c.notNull())
        .addColumn('next', 'varchar(2048)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint'),
      dialect,
    ).execute();
    await db.schema.createIndex('sso_states_expiry').on('sso_states').column('expires_at').execute();
  },
};
