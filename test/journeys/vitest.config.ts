import { defineConfig } from 'vitest/config';

// Journey tier: the README's and infra/README.md's own commands walked as a person walks them
// (`npm start` in a fresh copy, the pages in Chromium, an app over OAuth, real tunnels carrying
// pings). Files run one at a time: each runs its own portal, node and tunnels on this machine.
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.journey.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 240_000,
    // A fresh copy installs its own dependencies (npm ci) in beforeAll.
    hookTimeout: 900_000,
    teardownTimeout: 60_000,
    retry: 0,
  },
});
