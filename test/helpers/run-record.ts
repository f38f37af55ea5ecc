// A run record as the store keeps it, for the store's own tests.
import type { RunRecord } from '../../src/store/index.js';

export function runRecord(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    service: 'checkout',
    environment: 'production',
    version: 'v1.2.3',
    strategy: 'canary',
    plan: { service: 'checkout', version: 'v1.2.3' } as RunRecord['plan'],
    request: { intent: 'deploy', service: 'checkout' } as RunRecord['request'],
    requester: { userId: 'U1' },
    origin: { kind: 'terminal' },
    phase: { status: 'running' },
    restarts: [],
    steps: [
      { key: 'validate', title: 'Pre-deployment validation', status: 'done', startedAt: 1, endedAt: 2 },
      { key: 'baseline', title: 'Production baseline', status: 'running', startedAt: 2 },
    ],
    targets: [{ environment: 'production' }],
    data: {},
    createdAt: 1,
    updatedAt: 2,
    ...over,
  };
}
