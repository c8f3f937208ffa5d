import type { Migration } from './helpers.ts';
import { ID, references, tableOptions } from './helpers.ts';

/** Node enrollment and credentials, and what the portal knows of each node's agent. */
export const m0004_node_channel: Migration = {
  name: '0004_node_channel',
  async up({ db, dialect }) {
    // One-time enrollment token and the long-lived credential, both stored as SHA-256 hashes.
    await db.schema.alterTable('nodes').addColumn('enrollment_hash', 'varchar(64)').execute();
    await db.schema.alterTable('nodes').addColumn('enrollment_expires_at', 'bigint').execute();
    await db.schema.alterTable('nodes').addColumn('credential_hash', 'varchar(64)').execute();
    await db.schema.alterTable('nodes').addColumn('enrolled_at', 'bigint').execute();
    await db.schema.createIndex('nodes_enrollment').on('nodes').column('enrollment_hash').execute();

    // Latest word from each node's agent (the NodeChannel writes it, throttled).
    await tableOptions(
      db.schema
        .createTable('node_status')
        .addColumn('node_id', ID, (c) => references(dialect, 'nodes.id')(c.primaryKey()))
        .addColumn('agent_version', 'varchar(64)')
        .addColumn('applied_revision', 'bigint')
        .addColumn('wanted_revision', 'bigint')
        .addColumn('connected', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('last_seen_at', 'bigint')
        .addColumn('load_json', 'text')
        .addColumn('sessions_json', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull()),
      dialect,
    ).execute();
  },
};
