// The one writer of a run and the one place that decides what comes next: each event's new run,
// and the effects it asks of the loop. Pure, so every rule is shown on a plain record.
import { describe, expect, it } from 'vitest';
import { keptLockOf, outcomeOf, pendingDecision, reportOf, rollbackOf } from '../../src/domain/run.js';
import type { Decision } from '../../src/domain/types.js';
import { strategyLine } from '../../src/runner/handlers/execute.js';
import { keptLock } from '../../src/runner/model/next-move.js';
import { type ModelEvent, reduce } from '../../src/runner/model/reduce.js';
import { initialSteps, withStages } from '../../src/runner/model/steps.js';
import type { RunRecord } from '../../src/store/records.js';
import { planFor, runRecordFor } from '../helpers/plan.js';

const plan = planFor();
const regression: Decision = { verdict: 'ROLLBACK', explanation: 'error rate 8% vs 0.1%', findings: [] };
const unclear: Decision = { verdict: 'INCONCLUSIVE', explanation: 'too few samples', findings: [] };
const stages = [{ key: 'canary-5', title: 'Canary 5%', trafficPct: 5, monitor: true }];

/** A production canary about to judge its first stage: staging done, production touched. */
function atStage(over: Partial<RunRecord> = {}): RunRecord {
  return runRecordFor(plan, 'running', {
    steps: withStages(initialSteps(plan, true), stages).map((s) =>
      s.key === 'stage:canary-5'
        ? { ...s, status: 'running' }
        : ['confirm-strategy', 'validate', 'staging-deploy', 'staging-gate', 'prepare', 'baseline'].includes(s.key)
          ? { ...s, status: 'done' }
          : s,
    ),
    targets: [
      { environment: 'staging', touchedAt: 0 },
      { environment: 'production', touchedAt: 1 },
    ],
    ...over,
  });
}

const ended = (key: string, result: NonNullable<Extract<ModelEvent, { type: 'step-ended' }>['outcome']['result']>): ModelEvent => ({
  type: 'step-ended',
  key,
  at: 10,
  outcome: { status: 'done', detail: 'line', result },
});

describe('what comes next after a verdict or a failure', () => {
  it('a regression rolls back by itself when the plan says so, and abandons nothing but reads the pods', () => {
    const r = reduce(atStage(), ended('stage:canary-5', { kind: 'verdict', decision: regression }));
    expect(r.run.phase).toMatchObject({
      status: 'rolling-back',
      rollback: { reason: regression.explanation, automatic: true, by: 'shipbot' },
    });
    expect(r.run.steps.find((s) => s.key === 'stage:canary-5')).toMatchObject({ status: 'failed', detail: regression.explanation });
    expect(r.run.steps.map((s) => s.key).slice(-4)).toEqual(['rollback', 'verify-rollback', 'incident', 'report']);
    expect(r.effects.map((e) => e.kind)).toEqual(expect.arrayContaining(['read-pods', 'audit']));
  });

  it('asks a person instead when rollback on regression is off, and always for an unclear result', () => {
    const off = atStage({ plan: { ...plan, rollbackOnRegression: false } });
    const asked = reduce(off, ended('stage:canary-5', { kind: 'verdict', decision: regression })).run;
    expect(pendingDecision(asked)).toEqual(regression);
    expect(asked.steps.find((s) => s.key === 'stage:canary-5')?.status).toBe('warning');
    expect(pendingDecision(reduce(atStage(), ended('stage:canary-5', { kind: 'verdict', decision: unclear })).run)).toEqual(unclear);
  });

  it('the staging gate blocks whatever the plan says, naming itself in the reason', () => {
    const off = atStage({
      plan: { ...plan, rollbackOnRegression: false },
      targets: [{ environment: 'staging', touchedAt: 0 }, { environment: 'production' }],
    });
    const r = reduce(
      off,
      ended('staging-gate', { kind: 'verdict', decision: regression, blocks: true, reason: 'staging regression gate: ' }),
    );
    expect(rollbackOf(r.run)?.reason).toBe(`staging regression gate: ${regression.explanation}`);
  });

  it('a failure before any cluster changed fails the run; after, it rolls back', () => {
    const untouched = atStage({ targets: [{ environment: 'staging' }, { environment: 'production' }] });
    const failed = reduce(untouched, ended('validate', { kind: 'failed', reason: 'lock: held by someone else' }));
    expect(failed.effects).toContainEqual({ kind: 'end', status: 'failed', outcome: 'lock: held by someone else' });
    expect(failed.run.steps.filter((s) => s.status === 'pending').map((s) => s.key)).toEqual(['report']);
    const thrown = reduce(atStage(), { type: 'step-threw', key: 'stage:canary-5', message: 'API server said 500', at: 10 });
    expect(rollbackOf(thrown.run)?.reason).toBe('step failed: API server said 500');
  });

  it('a migration the previous version cannot run on turns an automatic rollback into a question', () => {
    const migrated = atStage({
      data: { migrations: { production: { job: 'checkout-migrate', ok: true, detail: 'Complete', backwardCompatible: false } } },
    });
    const r = reduce(migrated, ended('stage:canary-5', { kind: 'verdict', decision: regression }));
    expect(r.run.phase.status).toBe('awaiting-decision');
    expect(pendingDecision(r.run)?.explanation).toMatch(/not backward compatible/);
  });

  it('while rolling back, nothing but the end changes the course', () => {
    const back = reduce(atStage(), ended('stage:canary-5', { kind: 'verdict', decision: regression })).run;
    const failedStep = reduce(back, ended('rollback', { kind: 'failed', reason: 'patch refused' }));
    expect(failedStep.run.phase.status).toBe('rolling-back');
    expect(failedStep.effects).toEqual([]);
  });
});

describe('commands and the end', () => {
  const IC = { userId: 'U_IC', name: 'ivan' };

  it('Cancel before anything changed ends the run; after, it rolls back, pressed by a person', () => {
    const before = reduce(runRecordFor(plan, 'queued'), { type: 'command', cmd: 'cancel', actor: IC, at: 3 });
    expect(before.effects).toContainEqual({ kind: 'end', status: 'cancelled', outcome: 'cancelled by ivan' });
    const after = reduce(atStage(), { type: 'command', cmd: 'cancel', actor: IC, at: 3 });
    expect(rollbackOf(after.run)).toMatchObject({ reason: 'cancelled by ivan', by: 'ivan (U_IC)', automatic: false });
    expect(after.effects.map((e) => e.kind)).toContain('abort-step');
  });

  it('Accept keeps the question it answered; the phase then holds no question', () => {
    const asking = runRecordFor(plan, 'awaiting-decision');
    const r = reduce(asking, { type: 'command', cmd: 'accept', actor: IC, at: 4 });
    expect(r.run.phase).toEqual({ status: 'running' });
    expect(r.run.data.accepted).toMatchObject({ by: 'ivan (U_IC)', explanation: 'unclear' });
    // The status line people read names the person; the id stays in the record.
    expect(r.run.stage).toBe('accepted by ivan');
  });

  it('the ended phase carries the rollback, the kept lock and, once written, the reports and the summary', () => {
    const back = reduce(atStage(), ended('stage:canary-5', { kind: 'verdict', decision: regression })).run;
    const why = keptLock(back, 'rolled-back', regression.explanation);
    expect(why).toMatch(/^an automatic rollback \(run r1: error rate 8%/);
    let run = reduce(back, {
      type: 'ended',
      status: 'rolled-back',
      outcome: regression.explanation,
      at: 20,
      ...(why ? { keptLock: why } : {}),
    }).run;
    expect(outcomeOf(run)).toBe(regression.explanation);
    expect(rollbackOf(run)?.automatic).toBe(true);
    expect(keptLockOf(run)).toBe(why);
    run = reduce(run, { type: 'reports-written', at: 21, report: { path: '/r/r1.md' }, detail: 'r1.md' }).run;
    run = reduce(run, { type: 'summary-written', summary: 'rolled back automatically' }).run;
    expect(reportOf(run)).toEqual({ path: '/r/r1.md', summary: 'rolled back automatically' });
  });

  it('a run stopped at staging or rolled back by a person leaves the lock', () => {
    const stagingOnly = atStage({ targets: [{ environment: 'staging', touchedAt: 0 }, { environment: 'production' }] });
    expect(keptLock(stagingOnly, 'failed', 'staging deploy failed')).toBeUndefined();
    const pressed = reduce(atStage(), { type: 'command', cmd: 'rollback', actor: IC, at: 3 }).run;
    expect(keptLock(pressed, 'rolled-back', 'rollback requested by ivan')).toBeUndefined();
  });
});

describe('the strategy row', () => {
  it('says why without naming the strategy twice', () => {
    const run = runRecordFor(
      { ...plan, strategy: 'canary', rationale: 'Canary: asked for canary; the new version takes a small share first.' },
      'running',
    );
    const line = strategyLine(run);
    expect(line).toMatch(/^canary .* — as asked; the new version takes a small share first\.$/);
    expect(line).not.toMatch(/canary — canary/i);
  });
});

describe('the status line follows the list', () => {
  it('names the step that starts while the run is running; a rollback keeps its own line', () => {
    const run = atStage({ stage: 'Canary 5%, serving 5%' });
    expect(reduce(run, { type: 'step-started', key: 'regression-gate', at: 20 }).run.stage).toBe('Production regression gate');
    const rollingBack = reduce(run, { type: 'command', cmd: 'rollback', actor: { userId: 'U_IC', name: 'ivan' }, at: 20 }).run;
    expect(reduce(rollingBack, { type: 'step-started', key: 'rollback', at: 21 }).run.stage).toBe(rollingBack.stage);
  });
});
