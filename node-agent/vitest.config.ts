import { defineConfig } from 'vitest/config';

// Agent tier: the agent's own modules, and its backends against the real wg, wireguard-go and
// openvpn in network namespaces the tests create.
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Each file in its own child process: the watchdog (test/support/watchdog.ts) can kill a
    // worker stuck where these timeouts cannot fire without taking vitest itself down, and
    // vitest can kill a worker that does not stop.
    pool: 'forks',
    setupFiles: ['test/support/watchdog-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // vitest's own wait for workers and the run to wind down, after which it reports and exits.
    teardownTimeout: 20_000,
    // Backend tests create namespaces and interfaces; one file at a time keeps them apart.
    fileParallelism: false,
  },
});
