import { defineConfig } from 'vitest/config';

/**
 * The real-time suites: a real Prometheus scraping every 5-30 s, whole releases in real time.
 * Each waits for minutes on the clock, not the CPU, so `npm test` runs them after the rest, all at
 * once, in a vitest of their own (scripts/test.mjs) instead of letting them hold the two workers.
 */
export const REAL_TIME = [
  'test/metrics/prometheus-deploy.test.ts',
  'test/metrics/prometheus-gates.test.ts',
  'test/metrics/prometheus-two-clusters.test.ts',
  'test/ops/replica-processes.e2e.test.ts',
];

// SHIPBOT_TEST_GROUP: `real-time` runs only those, `rest` all but those; unset, everything (one file by hand).
const group = process.env.SHIPBOT_TEST_GROUP;

export default defineConfig({
  test: {
    include: group === 'real-time' ? REAL_TIME : ['test/**/*.test.ts'],
    exclude: group === 'rest' ? [...REAL_TIME, '**/node_modules/**'] : ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites start HTTP servers on ephemeral loopback ports; two workers fit 2-core machines.
    // The real-time group waits more than it computes: all of it at once.
    maxWorkers: group === 'real-time' ? REAL_TIME.length : 2,
  },
});
