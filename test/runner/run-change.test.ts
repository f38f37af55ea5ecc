// The one writer of a run during a step: what each kind of change does to the record, and that a
// change to one target never touches the other or what was already kept.
import { describe, expect, it } from 'vitest';
import { applyChange } from '../../src/runner/model/reduce.js';
import { allDecisions, ownTarget, targetIn } from '../../src/store/records.js';
import { initialSteps } from '../../src/runner/model/steps.js';
import { planFor, rolloutStateFor, runRecordFor } from '../helpers/plan.js';
import { rollbackOf } from '../../src/domain/run.js';

const plan = planFor();
const sample = { at: 1, windowSec: 30, requests: 100, errorRate: 0, p50Ms: 20, p95Ms: 50, p99Ms: 80, throughputRps: 3.3 };

const record = () =>
  runRecordFor(plan, 'running', {
    steps: initialSteps(plan, true, { staging: true, target: false }),
    targets: [{ environment: 'staging' }, { environment: 'production', baselineSamples: [sample] }],
    phase: { status: 'rolling-back', rollback: { reason: 'errors', by: 'shipbot', at: 5, automatic: true } },
  });

describe('applyChange', () => {
  it('sets fields of one target and keeps the rest of it, and the other target', () => {
    let run = record();
    run = applyChange(run, { target: { environment: 'staging', set: { rollout: rolloutStateFor('rolling') } } });
    run = applyChange(run, { target: { environment: 'production', set: { rollout: rolloutStateFor('canary'), smoke: [] } } });
    expect(ownTarget(run)).toEqual({ environment: 'production', baselineSamples: [sample], rollout: rolloutStateFor('canary'), smoke: [] });
    expect(targetIn(run, 'staging')).toEqual({ environment: 'staging', rollout: rolloutStateFor('rolling') });
    run = applyChange(run, { target: { environment: 'staging', set: { reference: { samples: [sample] } } } });
    expect(targetIn(run, 'staging')).toEqual({
      environment: 'staging',
      rollout: rolloutStateFor('rolling'),
      reference: { samples: [sample] },
    });
  });

  it("appends decisions in order to their target's, adds the prepared stages once, and keeps the rollback with its verification", () => {
    let run = record();
    const d = (step: string) => ({ step, at: 1, decision: { verdict: 'CONTINUE' as const, explanation: step, findings: [] } });
    run = applyChange(run, { decisions: { environment: 'production', add: [d('a')] } });
    run = applyChange(run, { decisions: { environment: 'staging', add: [d('staging-gate')] } });
    run = applyChange(run, { decisions: { environment: 'production', add: [d('b'), d('c')] }, stage: 'canary 5%' });
    expect(ownTarget(run).decisions?.map((x) => x.step)).toEqual(['a', 'b', 'c']);
    expect(targetIn(run, 'staging')?.decisions?.map((x) => x.step)).toEqual(['staging-gate']);
    expect(allDecisions(run).map((x) => x.step)).toEqual(['staging-gate', 'a', 'b', 'c']);
    expect(run.stage).toBe('canary 5%');

    const stages = [{ key: 'canary-5', title: 'canary 5%', trafficPct: 5, monitor: true }];
    run = applyChange(run, { stages });
    run = applyChange(run, { stages });
    expect(run.steps.filter((s) => s.key === 'stage:canary-5')).toHaveLength(1);

    run = applyChange(run, { verification: { ok: true, oldTrafficPct: 100, detail: 'v1.2.2 serves 100%' } });
    expect(rollbackOf(run)).toEqual({
      reason: 'errors',
      by: 'shipbot',
      at: 5,
      automatic: true,
      verification: { ok: true, oldTrafficPct: 100, detail: 'v1.2.2 serves 100%' },
    });
  });

  it('keeps each environment migration apart, and a verification without a rollback changes nothing', () => {
    let run = record();
    run = { ...run, phase: { status: 'running' } };
    const m = (job: string) => ({ job, ok: true, detail: 'Complete', backwardCompatible: true });
    run = applyChange(run, { migration: { environment: 'staging', record: m('s') } });
    run = applyChange(run, { migration: { environment: 'production', record: m('p') } });
    expect(run.data.migrations).toEqual({ staging: m('s'), production: m('p') });
    run = applyChange(run, { verification: { ok: true, oldTrafficPct: 100, detail: 'x' } });
    expect(rollbackOf(run)).toBeUndefined();
  });
});
