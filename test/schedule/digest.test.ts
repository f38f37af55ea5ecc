// The daily digest's figures from run rows: counts per outcome, rollbacks and the mean time
// from a run's start to its rollback, the window it covers.
import type { EndStatus, RollbackFacts, RunPhase } from '../../src/domain/run.js';
import { describe, expect, it } from 'vitest';
import { computeDigest, digestWindow, formatDigest, type DigestRun } from '../../src/schedule/index.js';

const T0 = Date.UTC(2026, 10, 22, 9);
const MIN = 60_000;

function run(
  id: string,
  service: string,
  status: EndStatus | 'running',
  startMin: number,
  rollbackAfterMin?: number,
  automatic = true,
): DigestRun {
  return {
    id,
    service,
    environment: 'production',
    version: 'v1',
    phase: phaseOf(
      status,
      rollbackAfterMin === undefined ? undefined : { reason: 'x', by: 'shipbot', at: T0 + (startMin + rollbackAfterMin) * MIN, automatic },
    ),
    createdAt: T0 + startMin * MIN,
  };
}

function phaseOf(status: EndStatus | 'running', rollback: RollbackFacts | undefined): RunPhase {
  if (status === 'running') return rollback ? { status: 'rolling-back', rollback } : { status };
  return { status, outcome: '', ...(rollback ? { rollback } : {}) };
}

describe('computeDigest', () => {
  const runs = [
    run('a', 'checkout', 'succeeded', 10),
    run('b', 'checkout', 'rolled-back', 60, 4),
    run('c', 'payments', 'rolled-back', 120, 10, false),
    run('d', 'search', 'failed', 200),
    run('e', 'search', 'cancelled', 300),
    run('f', 'checkout', 'running', 1400),
    run('g', 'checkout', 'succeeded', -5), // before the window
    run('h', 'payments', 'rolled-back', 24 * 60, 1), // at the window's end: the next digest's
  ];

  it('counts outcomes of runs started in the window and averages time to rollback', () => {
    const d = computeDigest(runs, T0, T0 + 24 * 60 * MIN);
    expect(d).toMatchObject({ deploys: 6, succeeded: 1, rollbacks: 2, automaticRollbacks: 1, failed: 1, cancelled: 1, inFlight: 1 });
    expect(d.meanTimeToRollbackSec).toBe(7 * 60); // (4 + 10) / 2 minutes
    expect(d.perService).toEqual([
      { service: 'checkout', deploys: 3, rollbacks: 1 },
      { service: 'search', deploys: 2, rollbacks: 0 },
      { service: 'payments', deploys: 1, rollbacks: 1 },
    ]);
    const text = formatDigest(d);
    expect(text).toContain('6 deploys: 1 succeeded, 2 rolled back (1 automatically), 1 failed or stopped, 1 cancelled, 1 still in flight');
    expect(text).toContain('Mean time to rollback: 7 min');
    expect(text).toContain('checkout 3 (1 rolled back), search 2, payments 1 (1 rolled back)');
  });

  it('says so when nothing was deployed, and has no mean without rollbacks', () => {
    const empty = computeDigest([], T0, T0 + 1);
    expect(empty.meanTimeToRollbackSec).toBeUndefined();
    expect(formatDigest(empty)).toMatch(/No deploys\.$/);
    const calm = computeDigest([run('a', 'checkout', 'succeeded', 1)], T0, T0 + 24 * 60 * MIN);
    expect(formatDigest(calm)).toContain('n/a (no rollbacks)');
  });
});

describe('digestWindow', () => {
  it('is the 24 h ending at the last digest hour that has passed', () => {
    expect(digestWindow(T0 + 5 * MIN, 9)).toEqual({ from: T0 - 24 * 60 * MIN, to: T0, key: '2026-11-22' });
    expect(digestWindow(T0 - 5 * MIN, 9)).toEqual({ from: T0 - 48 * 60 * MIN, to: T0 - 24 * 60 * MIN, key: '2026-11-21' });
  });
});
