/**
 * The node-agent tier's setup file (vitest.config.ts): starts this worker's watchdog and keeps it
 * told which file and test are running, for its message should the main thread get stuck.
 */
import { afterEach, beforeAll, beforeEach } from 'vitest';
import { startWatchdog, watchdogFile, watchdogWhere } from './watchdog.ts';

// vitest reads the first parameter's destructuring pattern to decide which fixtures to set up.
// biome-ignore lint/correctness/noEmptyPattern: vitest requires the fixtures parameter to be a destructuring pattern.
beforeAll(({}, suite) => {
  startWatchdog(suite.file.name);
  // Also when vitest runs a second file in this process.
  watchdogFile(suite.file.name);
  watchdogWhere('in beforeAll, before its first test');
});
beforeEach((context) => watchdogWhere(`in test "${context.task.fullName}"`));
afterEach((context) => watchdogWhere(`after test "${context.task.fullName}": in a hook or between tests`));
