import { m0001_core } from './0001_core.ts';
import { m0002_oauth } from './0002_oauth.ts';
import { m0003_vpn_configs } from './0003_vpn_configs.ts';
import { m0004_node_channel } from './0004_node_channel.ts';
import { m0005_connection_log } from './0005_connection_log.ts';
import { m0006_sso } from './0006_sso.ts';
import { m0007_stats_indexes } from './0007_stats_indexes.ts';
import type { Migration } from './helpers.ts';

/**
 * The ordered, append-only list of migrations. Workers have no file system, so the list is
 * explicit. Never edit or reorder a shipped entry: add a new one. The schema snapshot test
 * (test/migrations.test.ts) fails when the resulting schema changes without a snapshot update.
 */
export const migrations: readonly Migration[] = [m0001_core, m0002_oauth, m0003_vpn_configs, m0004_node_channel, m0005_connection_log, m0006_sso, m0007_stats_indexes];

export type { Dialect, Migration, MigrationContext } from './helpers.ts';
