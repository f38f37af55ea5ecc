// A crash in the middle of each strategy: the runner is closed mid-step (its database left as a
// crash would leave it), a new Runner opens the same database against the same sandbox and
// `resumeInFlight()` resumes the run at its step — or stops it safely, saying what to check.
import { afterEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, outcomeOf } from '../../src/domain/run.js';
import { REQUESTER, servingImages, startWorld, started, until, withoutStaging, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const midStage = (key: string) => (r: { steps: Array<{ key: string; status: string }> }) =>
  r.steps.some((s) => s.key === key && s.status === 'running');

describe('crash and restart', () => {
  it.each([
    ['canary', 'deploy checkout v1.2.3 canary', 'stage:canary-50'],
    ['blue-green', 'deploy checkout v1.2.3 blue-green', 'stage:cutover'],
    ['rolling', 'deploy checkout v1.2.3 rolling', 'stage:rolling-update'],
  ])('%s: resumes at the interrupted step and finishes with nothing lost', async (_s, text, stepKey) => {
    w = await startWorld();
    const run = started(await w.deploy(text, { canarySteps: [25, 50, 100] }));
    const steps = (await w.runner.record(run.id))!.steps.map((s) => s.key);
    await until(w.runner, run.id, midStage(stepKey)).catch(() => undefined);
    const before = (await w.runner.record(run.id))!;
    expect(before.steps.find((s) => s.key === stepKey)?.status, `steps: ${steps.join(', ')}`).toBe('running');
    await w.runner.close();

    const runner = w.restart();
    const resumed = await runner.resumeInFlight();
    expect(resumed).toEqual([{ runId: run.id, action: 'resume', note: expect.stringContaining('resuming at') }]);
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    // Steps finished before the crash kept their results; the interrupted one ran again.
    for (const s of before.steps.filter((x) => x.status === 'done')) {
      expect(done.steps.find((x) => x.key === s.key)).toMatchObject({ status: 'done', startedAt: s.startedAt, endedAt: s.endedAt });
    }
    expect((await runner.record(run.id))!.data.resumes).toEqual({ [stepKey]: 1 });
    expect((await runner.auditTrail(run.id)).map((e) => e.action)).toEqual(['start', 'resume-after-restart', 'succeeded']);
    expect(await servingImages(w, 'checkout')).toEqual(['registry.example.com/shop/checkout:v1.2.3']);
    expect(await runner.getLock('checkout', 'production')).toBeUndefined();
  });

  it('stops on purpose (SIGTERM, Ctrl-C) never use up the resume budget; crashes do', async () => {
    w = await startWorld({ speed: 20 });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100], stageWindowSec: 120 }));
    await until(w.runner, run.id, midStage('stage:canary-25'));
    // More deliberate restarts than the budget allows crashes: each resumes, none counts.
    for (let i = 0; i < 4; i++) {
      await w.runner.shutdown();
      const runner = w.restart();
      expect(await runner.resumeInFlight()).toEqual([{ runId: run.id, action: 'resume', note: expect.any(String) }]);
      expect((await runner.record(run.id))!.data.resumes ?? {}).toEqual({});
      await until(runner, run.id, midStage('stage:canary-25'));
    }
    // A crash (close without the mark) counts.
    await w.runner.close();
    const runner = w.restart();
    await runner.resumeInFlight();
    expect((await runner.record(run.id))!.data.resumes).toEqual({ 'stage:canary-25': 1 });
    expect((await runner.settled(run.id))?.phase.status).toBe('succeeded');
  });

  it('a run interrupted while rolling back finishes the rollback after the restart', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100], stageWindowSec: 3000 }));
    await until(w.runner, run.id, midStage('stage:canary-25'));
    await w.runner.command(run.id, 'rollback', REQUESTER);
    await w.runner.close();
    const runner = w.restart();
    expect((await runner.resumeInFlight())[0]).toMatchObject({ runId: run.id, action: 'resume' });
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(await servingImages(w, 'checkout')).toEqual(['registry.example.com/shop/checkout:v1.2.2']);
  });

  it('stops safely when resuming is not safe, keeps the lock and says what a person must check', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy payments v1.2.3 canary', { canarySteps: [25, 100], stageWindowSec: 3000 }));
    await until(w.runner, run.id, midStage('stage:canary-25'));
    await w.runner.close();
    // After the restart the catalogue no longer has the service: Shipbot cannot know how to reach it.
    const cfg = withoutStaging();
    const runner = w.restart({ ...cfg, services: cfg.services.filter((s) => s.name !== 'payments') });
    expect(await runner.resumeInFlight()).toEqual([
      { runId: run.id, action: 'stop', note: expect.stringMatching(/no longer in the catalogue; check payments in production/) },
    ]);
    const v = (await runner.get(run.id))!;
    expect(v.phase.status).toBe('stopped');
    expect(FINAL_STATUSES.has(v.phase.status)).toBe(true);
    expect(v.steps.find((s) => s.key === 'stage:canary-25')).toMatchObject({ status: 'failed', detail: 'interrupted by a restart' });
    expect(await runner.getLock('payments', 'production')).toMatchObject({ kind: 'held', runId: run.id });
    expect((await runner.auditTrail(run.id)).map((e) => e.action)).toEqual(['start', 'stop-after-restart', 'stopped']);
  });

  it('a run waiting for a decision keeps waiting after a restart and can still be decided', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3-slow canary', { canarySteps: [50, 100], rollbackOnRegression: false }));
    await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision');
    await w.runner.close();
    const runner = w.restart();
    expect(await runner.resumeInFlight()).toEqual([{ runId: run.id, action: 'wait', note: 'awaiting-decision' }]);
    expect(await runner.command(run.id, 'rollback', REQUESTER)).toMatchObject({ ok: true, acted: true });
    expect((await runner.settled(run.id))!.phase.status).toBe('rolled-back');
  });
});
