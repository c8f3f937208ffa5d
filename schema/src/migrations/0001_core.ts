import type { Migration } from './helpers.ts';
import { ID, references, tableOptions } from './helpers.ts';

/** Users, local accounts, browser sessions, profiles, nodes, per-node ranges, audit log. */
export const m0001_core: Migration = {
  name: '0001_core',
  async up({ db, dialect }) {
    const ref = (target: string) => references(dialect, target);

    await tableOptions(
      db.schema
        .createTable('users')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('display_name', 'varchar(255)')
        .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('is_disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint'),
      dialect,
    ).execute();

    await tableOptions(
      db.schema
        .createTable('local_accounts')
        .addColumn('user_id', ID, (c) => ref('users.id')(c.primaryKey()))
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();

    await tableOptions(
      db.schema
        .createTable('browser_sessions')
        .addColumn('id_hash', 'varchar(64)', (c) => c.primaryKey())
        .addColumn('user_id', ID, (c) => ref('users.id')(c.notNull()))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('user_agent', 'varchar(255)'),
      dialect,
    ).execute();
    await db.schema.createIndex('browser_sessions_user').on('browser_sessions').column('user_id').execute();
    await db.schema.createIndex('browser_sessions_expiry').on('browser_sessions').column('expires_at').execute();

    await tableOptions(
      db.schema
        .createTable('profiles')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('display_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('host_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('default_gateway', 'integer', (c) => c.notNull())
        .addColumn('dns_servers', 'text', (c) => c.notNull())
        .addColumn('dns_search_domains', 'text', (c) => c.notNull())
        .addColumn('routes', 'text', (c) => c.notNull())
        .addColumn('exclude_routes', 'text', (c) => c.notNull())
        .addColumn('acl_permissions', 'text')
        .addColumn('wg_enabled', 'integer', (c) => c.notNull())
        .addColumn('wg_range_four', 'varchar(64)')
        .addColumn('wg_range_six', 'varchar(64)')
        .addColumn('wg_port', 'integer', (c) => c.notNull())
        .addColumn('ovpn_enabled', 'integer', (c) => c.notNull())
        .addColumn('ovpn_range_four', 'varchar(64)')
        .addColumn('ovpn_range_six', 'varchar(64)')
        .addColumn('ovpn_udp_ports', 'text', (c) => c.notNull())
        .addColumn('ovpn_tcp_ports', 'text', (c) => c.notNull())
        .addColumn('preferred_proto', 'varchar(16)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();

    await tableOptions(
      db.schema
        .createTable('nodes')
        .addColumn('id', ID, (c) => c.primaryKey())
        .addColumn('name', 'varchar(255)', (c) => c.notNull().unique())
        .addColumn('host_name', 'varchar(255)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint'),
      dialect,
    ).execute();

    await tableOptions(
      db.schema
        .createTable('node_profiles')
        .addColumn('node_id', ID, (c) => ref('nodes.id')(c.notNull()))
        .addColumn('profile_id', ID, (c) => ref('profiles.id')(c.notNull()))
        .addColumn('host_name', 'varchar(255)')
        .addColumn('wg_range_four', 'varchar(64)')
        .addColumn('wg_range_six', 'varchar(64)')
        .addColumn('ovpn_range_four', 'varchar(64)')
        .addColumn('ovpn_range_six', 'varchar(64)')
        .addPrimaryKeyConstraint('node_profiles_pk', ['node_id', 'profile_id']),
      dialect,
    ).execute();
    await db.schema.createIndex('node_profiles_profile').on('node_profiles').column('profile_id').execute();

    await tableOptions(
      db.schema
        .createTable('audit_log')
        .addColumn('id', dialect === 'mysql' ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor_user_id', 'varchar(255)')
        .addColumn('action', 'varchar(64)', (c) => c.notNull())
        .addColumn('target_type', 'varchar(32)', (c) => c.notNull())
        .addColumn('target_id', 'varchar(255)', (c) => c.notNull())
        .addColumn('before_json', 'text')
        .addColumn('after_json', 'text')
        .addColumn('request_id', 'varchar(64)'),
      dialect,
    ).execute();
    await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
    await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();
  },
};
