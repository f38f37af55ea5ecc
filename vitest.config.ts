import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites start HTTP servers on ephemeral loopback ports; two workers fit 2-core machines.
    maxWorkers: 2,
  },
});
