import { defineConfig } from 'vitest/config';

/**
 * Suites that run apart from the rest (scripts/test.mjs), each group in a vitest of its own:
 * - `real-time`: a real Prometheus scraping every 15-30 s, whole releases in real time. Each waits
 *   for minutes on the clock, not the CPU: all of them at once, after the rest.
 * - `processes`: two `shipbot start` processes, Postgres and a Prometheus: alone, last, so the
 *   real-time group's Prometheus readings are not slowed by four more processes.
 */
export const APART: Record<string, string[]> = {
  'real-time': [
    'test/metrics/prometheus-deploy.test.ts',
    'test/metrics/prometheus-gates.test.ts',
    'test/metrics/prometheus-two-clusters.test.ts',
  ],
  processes: ['test/ops/replica-processes.e2e.test.ts'],
};

// SHIPBOT_TEST_GROUP: a group of APART runs only those, `rest` all but them; unset, everything (one file by hand).
const group = process.env.SHIPBOT_TEST_GROUP;
const apart = group ? APART[group] : undefined;

export default defineConfig({
  test: {
    include: apart ?? ['test/**/*.test.ts'],
    exclude: group === 'rest' ? [...Object.values(APART).flat(), '**/node_modules/**'] : ['**/node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Suites start HTTP servers on ephemeral loopback ports; two workers fit 2-core machines.
    // A group apart waits more than it computes: all of it at once.
    maxWorkers: apart ? apart.length : 2,
  },
});
