// Shared test data for the llm suites: the shipped catalogue, a plan, diagnostics.
import { readFileSync } from 'node:fs';
import { parseConfig } from '../../src/config.js';
import { DeployPlan } from '../../src/domain/types.js';
import type { Diagnostics } from '../../src/domain/run.js';
import { planFor } from '../helpers/plan.js';

export const cfg = parseConfig(readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8'));

/** The shared test plan (test/helpers/plan.ts) with the shipped windows: 5 → 25 → 50 → 100%, 5-minute stages, 30 min observation. */
export function plan(over: Partial<DeployPlan> = {}): DeployPlan {
  return DeployPlan.parse(
    planFor({ observationSec: 1800, stageWindowSec: 300, monitoringIntervalSec: 30, canarySteps: [5, 25, 50, 100], ...over }),
  );
}

export function oomDiagnostics(): Diagnostics {
  return {
    runId: 'run-1',
    pods: [
      { name: 'checkout-canary-a1', phase: 'Running', ready: false, restarts: 4, reason: 'OOMKilled', version: 'v1.2.4-oom' },
      { name: 'checkout-canary-b2', phase: 'Running', ready: false, restarts: 3, reason: 'OOMKilled', version: 'v1.2.4-oom' },
      { name: 'checkout-canary-c3', phase: 'Running', ready: false, restarts: 5, reason: 'OOMKilled', version: 'v1.2.4-oom' },
      { name: 'checkout-7f9-x1', phase: 'Running', ready: true, restarts: 0, version: 'v1.2.2' },
    ],
    events: [
      {
        at: '2026-11-23T14:00:00Z',
        reason: 'BackOff',
        message: 'Back-off restarting failed container app',
        object: 'pod/checkout-canary-a1',
      },
    ],
    metrics: [{ metric: 'error rate', candidate: '6.1%', baseline: '0.2%', delta: '+5.9 pts' }],
    failingChecks: [],
    logTail: ['starting checkout v1.2.4', 'allocating cache 2GiB'],
  };
}
