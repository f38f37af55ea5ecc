// The runner's pure rules: which steps a plan goes through, what a command means in each state,
// and whether a run found in flight at start-up may resume.
import { describe, expect, it } from 'vitest';
import { deployRequestFor, planFor, runRecordFor } from '../helpers/plan.js';
import { loadConfigFile } from '../../src/config.js';
import { admitStart } from '../../src/runner/admission.js';
import { commandEffect, MAX_RESUMES, resumeDecision } from '../../src/runner/model/next-move.js';
import { initialSteps, nextStep, touching, withRollbackSteps, withStages } from '../../src/runner/model/steps.js';
import type { RunStatus } from '../../src/domain/run.js';
import type { RunRecord } from '../../src/store/records.js';

const plan = planFor();

const rec = (status: RunStatus, over: Partial<RunRecord> = {}) => runRecordFor(plan, status, over);

const stages = [
  { key: 'canary-5', title: 'Canary 5%', trafficPct: 5, monitor: true },
  { key: 'canary-100', title: 'Canary 100%', trafficPct: 100, monitor: true },
];

describe('steps', () => {
  it('goes through staging only for production deploys of services with staging, and inserts stages after the baseline', () => {
    expect(initialSteps(plan, true).map((s) => s.key)).toEqual([
      'confirm-strategy',
      'validate',
      'staging-deploy',
      'staging-gate',
      'prepare',
      'baseline',
      'smoke',
      'regression-gate',
      'promote',
      'report',
    ]);
    expect(initialSteps({ ...plan, environment: 'staging' }, true).map((s) => s.key)).not.toContain('staging-deploy');
    const keys = withStages(initialSteps(plan, false), stages).map((s) => s.key);
    expect(keys.slice(keys.indexOf('baseline'), keys.indexOf('smoke'))).toEqual(['baseline', 'stage:canary-5', 'stage:canary-100']);
    expect(withStages(withStages(initialSteps(plan, false), stages), stages)).toHaveLength(keys.length);
    // The team's pre-promotion checks go right before the stage that takes all the traffic.
    const checked = withStages(initialSteps(plan, false, {}, undefined, true), stages).map((s) => s.key);
    expect(checked.slice(checked.indexOf('baseline'), checked.indexOf('smoke'))).toEqual([
      'baseline',
      'stage:canary-5',
      'pre-promotion-checks',
      'stage:canary-100',
    ]);
  });

  it('on rollback skips forward steps not started, marks the interrupted one, keeps finished ones, and ends with rollback, verification, incident, report', () => {
    let steps = withStages(initialSteps(plan, false), stages).map((s, i) => (i < 4 ? { ...s, status: 'done' as const } : s));
    steps[4] = { ...steps[4]!, status: 'running' };
    steps = withRollbackSteps(steps, 'error rate 8%');
    expect(steps.slice(-4).map((s) => s.key)).toEqual(['rollback', 'verify-rollback', 'incident', 'report']);
    // The running step did part of its work (its users saw the canary): a warning, so reports count it.
    expect(steps[4]).toMatchObject({ status: 'warning', detail: 'interrupted: error rate 8%' });
    expect(steps.slice(5, -4).every((s) => s.status === 'skipped')).toBe(true);
    expect(steps.filter((s) => s.status === 'done')).toHaveLength(4);
    expect(nextStep(steps)?.key).toBe('rollback');
    expect(withRollbackSteps(steps, 'again')).toBe(steps);
  });
});

describe('commands against run state', () => {
  it('rollback acts while running, waiting or paused, and once only', () => {
    for (const s of ['running', 'awaiting-decision', 'paused'] as const) expect(commandEffect(rec(s), 'rollback').kind).toBe('act');
    expect(commandEffect(rec('rolling-back'), 'rollback').kind).toBe('noop');
    expect(commandEffect(rec('rolled-back'), 'rollback').kind).toBe('noop');
    expect(commandEffect(rec('succeeded'), 'rollback')).toMatchObject({ kind: 'refuse', note: expect.stringMatching(/already succeeded/) });
  });

  it('accept only when a decision waits; approve only when pending approval; pause/resume pair up', () => {
    expect(commandEffect(rec('awaiting-decision'), 'accept')).toMatchObject({ kind: 'act', to: 'running' });
    expect(commandEffect(rec('running'), 'accept').kind).toBe('refuse');
    expect(commandEffect(rec('running', { data: { accepted: { by: 'U1', at: 1, explanation: '' } } }), 'accept').kind).toBe('noop');
    expect(commandEffect(rec('pending-approval'), 'approve')).toMatchObject({ kind: 'act', to: 'running' });
    expect(commandEffect(rec('running', { data: { approvals: [{ by: 'U2', at: 1 }] } }), 'approve').kind).toBe('noop');
    expect(commandEffect(rec('running'), 'pause')).toMatchObject({ kind: 'act', to: 'paused' });
    expect(commandEffect(rec('paused'), 'pause').kind).toBe('noop');
    expect(commandEffect(rec('paused'), 'resume')).toMatchObject({ kind: 'act', to: 'running' });
    expect(commandEffect(rec('succeeded'), 'resume').kind).toBe('refuse');
  });

  it('cancel before the cluster changed ends the run; after, it rolls back', () => {
    expect(commandEffect(rec('queued'), 'cancel')).toMatchObject({ kind: 'act', to: 'cancelled' });
    expect(commandEffect(rec('running'), 'cancel')).toMatchObject({ kind: 'act', to: 'cancelled' });
    const touched = rec('running');
    touched.steps = touched.steps.map((s) => (s.key === 'prepare' ? { ...s, status: 'done' } : s));
    touched.targets = touching(touched.targets, 'prepare', 1);
    expect(commandEffect(touched, 'cancel')).toMatchObject({ kind: 'act', to: 'rolling-back' });
    // Staging changed is the cluster changed too: cancelling rolls staging back.
    expect(commandEffect({ ...rec('running'), targets: touching(rec('running').targets, 'staging-deploy', 1) }, 'cancel')).toMatchObject({
      kind: 'act',
      to: 'rolling-back',
    });
  });
});

describe('resume after a restart', () => {
  it('waiting runs wait, running runs resume at their step, final runs are left alone', () => {
    expect(resumeDecision(rec('awaiting-decision'), true).action).toBe('wait');
    expect(resumeDecision(rec('succeeded'), true).action).toBe('none');
    expect(resumeDecision(rec('running'), true)).toMatchObject({ action: 'resume', step: 'confirm-strategy' });
  });

  it('stops, saying what to check, when the rollout state is lost, the service is gone, or a step keeps being interrupted', () => {
    const r = rec('running');
    r.steps = withStages(r.steps, stages).map((s) =>
      s.key.startsWith('stage:') || s.key === 'smoke' || s.key === 'regression-gate' || s.key === 'promote' || s.key === 'report'
        ? s
        : { ...s, status: 'done' },
    );
    expect(resumeDecision(r, true)).toMatchObject({
      action: 'stop',
      reason: expect.stringMatching(/rollout state .* lost.*check checkout in production/),
    });
    expect(resumeDecision(rec('running'), false)).toMatchObject({
      action: 'stop',
      reason: expect.stringMatching(/no longer in the catalogue/),
    });
    expect(resumeDecision(rec('running', { data: { resumes: { 'confirm-strategy': MAX_RESUMES } } }), true)).toMatchObject({
      action: 'stop',
      reason: expect.stringMatching(/interrupted 3 times/),
    });
  });
});

describe('admission', () => {
  // The one permission check of a start: a channel's rules apply wherever the start came from.
  const config = loadConfigFile('data/shipbot.yml');
  const strict = { ...config, channels: { ...config.channels, deploy: { staging: ['*'], production: ['#deploys'] } } };
  const input = (channel?: { id: string; name?: string }) => ({
    request: deployRequestFor(plan),
    plan,
    requester: { userId: 'U_DEV', name: 'dev' },
    origin: { kind: 'terminal' as const },
    ...(channel ? { channel } : {}),
  });

  it('refuses a production start asked in a channel the rules do not name, and admits it in one they do', () => {
    const refused = admitStart(strict, 0, input({ id: 'C1', name: 'random' }));
    expect(refused).toMatchObject({
      ok: false,
      reason: 'forbidden',
      message: expect.stringMatching(/not accepted in this channel.*#deploys/),
    });
    expect(admitStart(strict, 0, input({ id: 'C2', name: 'deploys' })).ok).toBe(true);
    // The terminal and the scheduler have no channel: the roles alone decide.
    expect(admitStart(strict, 0, input()).ok).toBe(true);
  });
});
