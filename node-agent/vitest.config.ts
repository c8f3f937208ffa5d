import { defineConfig } from 'vitest/config';

// Agent tier: the agent's own modules, and its backends against the real wg, wireguard-go and
// openvpn in network namespaces the tests create.
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Backend tests create namespaces and interfaces; one file at a time keeps them apart.
    fileParallelism: false,
  },
});
