import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Worker tier: the real portal inside workerd with real D1 and Durable Objects. The MySQL path
// reaches the real MariaDB through the project's PlanetScale-protocol server (test/psdb),
// started by global-setup.ts and handed in as the PSDB_URL binding.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      wrangler: { configPath: '../wrangler.toml' },
      miniflare: {
        bindings: {
          SETUP_TOKEN: 'test-setup-token-0123456789',
          PSDB_URL: inject('psdbUrl'),
          ...inject('secrets'),
        },
      },
    })),
  ],
  root: new URL('.', import.meta.url).pathname,
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx', 'src/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 30_000,
  },
});
