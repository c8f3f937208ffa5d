import type { Migration } from './helpers.ts';
import { ID, tableOptions } from './helpers.ts';

/** Who had which address when, and session counts over time (statistics). */
export const m0005_connection_log: Migration = {
  name: '0005_connection_log',
  async up({ db, dialect }) {
    // No foreign keys: the log outlives users, profiles and nodes (docs/eduvpn.md §4: "delete except logs").
    await tableOptions(
      db.schema
        .createTable('connection_log')
        .addColumn('id', dialect === 'mysql' ? 'bigint' : 'integer', (c) => c.primaryKey().autoIncrement())
        .addColumn('user_id', ID, (c) => c.notNull())
        .addColumn('profile_id', ID, (c) => c.notNull())
        .addColumn('node_id', ID, (c) => c.notNull())
        .addColumn('vpn_proto', 'varchar(16)', (c) => c.notNull())
        .addColumn('connection_id', 'varchar(64)', (c) => c.notNull())
        .addColumn('ip_four', 'varchar(64)')
        .addColumn('ip_six', 'varchar(64)')
        .addColumn('originating_ip', 'varchar(64)')
        .addColumn('connected_at', 'bigint', (c) => c.notNull())
        .addColumn('disconnected_at', 'bigint')
        .addColumn('bytes_in', 'bigint')
        .addColumn('bytes_out', 'bigint'),
      dialect,
    ).execute();
    await db.schema.createIndex('connection_log_connection').on('connection_log').column('connection_id').execute();
    await db.schema.createIndex('connection_log_ip_four').on('connection_log').column('ip_four').execute();
    await db.schema.createIndex('connection_log_ip_six').on('connection_log').column('ip_six').execute();
    await db.schema.createIndex('connection_log_user').on('connection_log').column('user_id').execute();
    await db.schema.createIndex('connection_log_connected').on('connection_log').column('connected_at').execute();

    // One row per node, profile, protocol and minute: the concurrent sessions the node reported.
    await tableOptions(
      db.schema
        .createTable('session_stats')
        .addColumn('node_id', ID, (c) => c.notNull())
        .addColumn('profile_id', ID, (c) => c.notNull())
        .addColumn('vpn_proto', 'varchar(16)', (c) => c.notNull())
        .addColumn('minute', 'bigint', (c) => c.notNull())
        .addColumn('sessions', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('session_stats_pk', ['node_id', 'profile_id', 'vpn_proto', 'minute']),
      dialect,
    ).execute();
    await db.schema.createIndex('session_stats_minute').on('session_stats').column('minute').execute();
  },
};
