import type { Migration } from './helpers.ts';
import { ID, references, tableOptions } from './helpers.ts';

/** OAuth for the VPN apps: registered clients, authorization codes, authorizations. */
export const m0002_oauth: Migration = {
  name: '0002_oauth',
  async up({ db, dialect }) {
    // Admin-registered clients; the built-in eduVPN / Let's Connect! clients live in code.
    await tableOptions(
      db.schema
        .createTable('oauth_clients')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull())
        .addColumn('redirect_uris', 'text', (c) => c.notNull())
        .addColumn('requires_approval', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();

    // One row per app authorization ("auth_key" upstream). refresh_seq is the generation of the
    // only refresh token that is still valid: rotation is a compare-and-set on it.
    await tableOptions(
      db.schema
        .createTable('oauth_authorizations')
        .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', ID, (c) => references(dialect, 'users.id')(c.notNull()))
        .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('scope', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('refresh_seq', 'integer', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint'),
      dialect,
    ).execute();
    await db.schema.createIndex('oauth_authorizations_user').on('oauth_authorizations').column('user_id').execute();
    await db.schema.createIndex('oauth_authorizations_expiry').on('oauth_authorizations').column('expires_at').execute();

    // Codes are stored as hashes and consumed with a compare-and-set on used_at (single use).
    await tableOptions(
      db.schema
        .createTable('oauth_codes')
        .addColumn('code_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', ID, (c) => references(dialect, 'users.id')(c.notNull()))
        .addColumn('client_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('redirect_uri', 'varchar(1024)', (c) => c.notNull())
        .addColumn('code_challenge', 'varchar(128)', (c) => c.notNull())
        .addColumn('scope', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('authorization_id', 'varchar(64)'),
      dialect,
    ).execute();
    await db.schema.createIndex('oauth_codes_expiry').on('oauth_codes').column('expires_at').execute();
  },
};
