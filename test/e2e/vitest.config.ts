import { defineConfig } from 'vitest/config';

// End-to-end tier: the real portal, two real agents with wireguard-go and OpenVPN in network
// namespaces, real VPN clients in namespaces, real MariaDB. Files run one at a time: they share
// the machine's CPU (2 cores) and /var/run/wireguard, and each times what it measures.
export default defineConfig({
  test: {
    root: new URL('.', import.meta.url).pathname,
    include: ['**/*.e2e.ts'],
    environment: 'node',
    globalSetup: ['./global-setup.ts'],
    fileParallelism: false,
    testTimeout: 180_000,
    hookTimeout: 120_000,
    teardownTimeout: 60_000,
    // A failed scenario must not be run again: its retry would measure a half-torn world.
    retry: 0,
  },
});
