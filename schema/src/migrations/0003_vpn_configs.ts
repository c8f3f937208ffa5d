import type { Migration } from './helpers.ts';
import { ID, references, tableOptions } from './helpers.ts';

/** VPN configurations handed out: WireGuard peers and OpenVPN client certificates. */
export const m0003_vpn_configs: Migration = {
  name: '0003_vpn_configs',
  async up({ db, dialect }) {
    // The node's WireGuard public key (its private key never leaves the node).
    await db.schema.alterTable('nodes').addColumn('wg_public_key', 'varchar(64)').execute();
    // Per-profile OpenVPN tls-crypt key, shared by every portal instance and the profile's nodes.
    await db.schema.alterTable('profiles').addColumn('tls_crypt_key', 'text').execute();

    // Addresses are globally unique (every node's ranges are disjoint), so the UNIQUE indexes are
    // the concurrency guard for allocation across edge instances: insert, and on a duplicate, retry.
    await tableOptions(
      db.schema
        .createTable('wg_peers')
        .addColumn('public_key', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('profile_id', ID, (c) => references(dialect, 'profiles.id')(c.notNull()))
        .addColumn('node_id', ID, (c) => references(dialect, 'nodes.id')(c.notNull()))
        .addColumn('user_id', ID, (c) => references(dialect, 'users.id')(c.notNull()))
        .addColumn('authorization_id', 'varchar(64)', (c) => references(dialect, 'oauth_authorizations.id')(c))
        .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('ip_four', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('ip_six', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();
    await db.schema.createIndex('wg_peers_user').on('wg_peers').column('user_id').execute();
    await db.schema.createIndex('wg_peers_authorization').on('wg_peers').column('authorization_id').execute();
    await db.schema.createIndex('wg_peers_node_profile').on('wg_peers').columns(['node_id', 'profile_id']).execute();
    await db.schema.createIndex('wg_peers_expiry').on('wg_peers').column('expires_at').execute();

    await tableOptions(
      db.schema
        .createTable('certificates')
        .addColumn('common_name', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('profile_id', ID, (c) => references(dialect, 'profiles.id')(c.notNull()))
        .addColumn('node_id', ID, (c) => references(dialect, 'nodes.id')(c.notNull()))
        .addColumn('user_id', ID, (c) => references(dialect, 'users.id')(c.notNull()))
        .addColumn('authorization_id', 'varchar(64)', (c) => references(dialect, 'oauth_authorizations.id')(c))
        .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();
    await db.schema.createIndex('certificates_user').on('certificates').column('user_id').execute();
    await db.schema.createIndex('certificates_authorization').on('certificates').column('authorization_id').execute();
    await db.schema.createIndex('certificates_expiry').on('certificates').column('expires_at').execute();
  },
};
