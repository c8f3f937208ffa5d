import { defineConfig } from 'vitest/config';

// Black-box tier: real MariaDB, real PlanetScale driver, real workerd via Miniflare's API.
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // The suites share one MariaDB server; each creates its own database, so files may run in parallel.
    fileParallelism: true,
  },
});
