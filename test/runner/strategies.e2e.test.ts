// Every strategy end to end against the sandbox: happy paths, failure paths with automatic
// rollback, and manual decisions. Real sandbox, real drivers, real metric source.
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, outcomeOf, pendingDecision, reportPathOf, rollbackOf, reportOf } from '../../src/domain/run.js';
import { SHIPPED, IC, REQUESTER, servingImages, startWorld, started, until, type World } from './world.js';
import { ownTarget, targetIn } from '../../src/store/records.js';

const OLD = 'registry.example.com/shop/checkout:v1.2.2';
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('happy paths', () => {
  it.each([
    ['canary', 'deploy checkout v1.2.3 canary', { canarySteps: [25, 100] }],
    ['blue-green', 'deploy checkout v1.2.3 blue-green', {}],
    ['rolling', 'deploy checkout v1.2.3 rolling', {}],
  ])('%s: every step done, new version serving, lock released, report written', async (strategy, text, over) => {
    w = await startWorld();
    const run = started(await w.deploy(text, over));
    expect(run.strategy).toBe(strategy);
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(done.steps.filter((s) => s.status !== 'done' && s.status !== 'skipped')).toEqual([]);
    expect(done.steps.some((s) => s.key.startsWith('stage:'))).toBe(true);
    expect(await servingImages(w, 'checkout')).toEqual(['registry.example.com/shop/checkout:v1.2.3']);
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
    const md = readFileSync(reportPathOf(done)!, 'utf8');
    expect(md).toMatch(/Outcome \| Succeeded ✓/);
    expect(md).toMatch(/\| error rate \| \d+\.\d+% \| \d+\.\d+% \|/);
    // The smoke checks ran against the live version before any traffic moved, and again after.
    expect(done.steps.find((s) => s.key === 'baseline')?.detail).toMatch(/; smoke 2\/2 passed on the live version$/);
    expect(done.steps.find((s) => s.key === 'smoke')?.detail).toBe('2/2 passed (live version before: 2/2 passed)');
    expect(md).toMatch(/\| health \| ✓ \| ✓ \| HTTP 200 in \d+ ms \|/);
    expect((await w.runner.auditTrail(run.id)).map((e) => e.action)).toEqual(['start', 'succeeded']);
  });

  it.each(['canary', 'blue-green', 'rolling'])(
    '%s on an ordinary workload (app=web, 3 replicas, no track label) succeeds',
    async (strategy) => {
      w = await startWorld();
      const run = started(await w.deploy(`deploy web v1.3.0 ${strategy}`, { canarySteps: [5, 50, 100] }));
      const done = (await w.runner.settled(run.id))!;
      expect(done.phase.status, `${outcomeOf(done)}\n${done.steps.map((s) => `${s.status} ${s.title}: ${s.detail}`).join('\n')}`).toBe(
        'succeeded',
      );
      expect(await servingImages(w, 'web')).toEqual(['registry.example.com/shop/web:v1.3.0']);
      if (strategy === 'canary') {
        // 1 canary pod beside 3 is 25%: said before the start, and the stage reports what it served.
        expect(done.steps.find((s) => s.key === 'validate')?.detail).toMatch(/3 replicas: the smallest step is 25%/);
        expect(done.steps.find((s) => s.key === 'stage:canary-5')?.detail).toMatch(/^serving 25% \(asked 5%\): /);
        // Served as asked, the row still says what it served.
        expect(done.steps.find((s) => s.key === 'stage:canary-50')?.detail).toMatch(/^serving 50%: /);
      }
    },
  );

  it('goes through staging and its regression gate first when the service has staging', async () => {
    w = await startWorld({ config: SHIPPED });
    const run = started(await w.deploy('deploy search v2.0.0 rolling'));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(done.steps.find((s) => s.key === 'staging-gate')).toMatchObject({ status: 'done' });
    expect(await servingImages(w, 'search', 'staging')).toEqual(['registry.example.com/shop/search:v2.0.0']);
    // The gate compared staging with production's live pods, sampled before staging changed.
    const staging = targetIn((await w.runner.record(run.id))!, 'staging');
    expect(staging?.reference?.samples.length).toBeGreaterThan(0);
    const gate = staging!.decisions!.filter((d) => d.step === 'staging-gate').at(-1)!.decision;
    expect(gate.verdict).toBe('CONTINUE');
    expect(gate.findings.map((f) => f.detail).join(' ')).toMatch(/production baseline/);
    // Smoke results count as tests: staging's against production's live version.
    expect(gate.findings.find((f) => f.rule === 'regression-tests')?.detail).toBe(
      'Regression gate passed: no regression (2/2 passed vs 2/2 on the baseline), threshold 2%.',
    );
  });

  it('blocks promotion when staging fails a check production passes, even a non-critical one', async () => {
    const config = structuredClone(SHIPPED);
    const search = config.services.find((s) => s.name === 'search')!;
    search.smoke = search.smoke.map((c) => (c.name === 'critical-path' ? { ...c, critical: false } : c));
    w = await startWorld({ config });
    const run = started(await w.deploy('deploy search v2.0.0-smokefail rolling'));
    const done = await until(w.runner, run.id, (r) => FINAL_STATUSES.has(r.phase.status) || r.phase.status === 'awaiting-decision');
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(outcomeOf(done)).toMatch(
      /staging regression gate: promotion blocked: Regression gate failed: 50% regression \(1\/2 passed vs 2\/2 on the baseline\)/,
    );
    expect(await servingImages(w, 'search')).toEqual(['registry.example.com/shop/search:v1.2.2']);
    // A staging failure remembers staging's pods, where the new version ran.
    const d = await w.runner.investigate(run.id, IC, false);
    expect(d.podsAt).toMatchObject({ environment: 'staging' });
    expect(d.pods.map((p) => p.version)).toContain('v2.0.0-smokefail');
  });
});

describe('failure paths roll back by themselves and keep the lock', () => {
  it.each([
    ['canary', 'deploy checkout v1.2.3-errors canary', /error rate/],
    ['blue-green', 'deploy checkout v1.2.3-crash blue-green', /CrashLoopBackOff|crash/i],
    ['rolling', 'deploy checkout v1.2.3-missing rolling', /image|pull/i],
    ['canary', 'deploy checkout v1.2.3-oom canary', /OOM/i],
    ['blue-green', 'deploy checkout v1.2.3-smokefail blue-green', /critical-path/],
    // p99 needs more samples than an error rate to be significant: a longer window.
    ['rolling', 'deploy checkout v1.2.3-slow rolling', /p99/, { stageWindowSec: 75 }],
  ])('%s with %s', async (_strategy, text, why, over: object = {}) => {
    w = await startWorld();
    const run = started(await w.deploy(text, { canarySteps: [25, 100], ...over }));
    // Stop at a waiting decision too, so a wrong "ask" fails here instead of timing out.
    const done = await until(w.runner, run.id, (r) => FINAL_STATUSES.has(r.phase.status) || r.phase.status === 'awaiting-decision');
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(outcomeOf(done)).toMatch(why);
    expect(done.steps.slice(-4).map((s) => [s.key, s.status])).toEqual([
      ['rollback', 'done'],
      ['verify-rollback', 'done'],
      ['incident', 'done'],
      ['report', 'done'],
    ]);
    expect(await servingImages(w, 'checkout')).toEqual([OLD]);
    const rec = (await w.runner.record(run.id))!;
    expect(rollbackOf(rec)).toMatchObject({ automatic: true, verification: { ok: true } });
    if (/smokefail/.test(text)) {
      // The critical path passed on the live version before the deploy: the new version broke it.
      expect(ownTarget(rec).baselineSmoke?.find((c) => c.name === 'critical-path')).toMatchObject({ ok: true });
      expect(readFileSync(reportPathOf(rec)!, 'utf8')).toMatch(/\| critical-path \| ✓ \| ❌ \|/);
    }
    expect(existsSync(reportOf(rec)!.incident!)).toBe(true);
    // Investigate shows the pods as they were when Shipbot decided, new version among them,
    // although the rollback has removed them since.
    const version = text.split(' ')[2]!;
    const d = await w.runner.investigate(run.id, IC, false);
    expect(d.podsAt).toMatchObject({ environment: 'production' });
    expect(d.pods.map((p) => p.version)).toContain(version);
    expect(d.podsNow).toBeDefined();
    expect((await w.runner.auditTrail(run.id)).map((e) => e.action)).toEqual(['start', 'automatic-rollback', 'incident', 'rolled-back']);
    // Locked until someone unlocks it: a new deploy is refused with who and since.
    const again = await w.deploy('deploy checkout v1.2.4 canary');
    expect(again).toMatchObject({ ok: false, reason: 'locked' });
    expect(!again.ok && again.message).toMatch(
      /^🔒 checkout in production is locked after an automatic rollback \(run r-\w+: .+\), since <!date\^\d+\^[^|]+\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>\.\n/,
    );
    // The lock waits for someone to check production: an incident commander, pressed or typed alike.
    expect(await w.runner.unlock('checkout', 'production', REQUESTER, 'checked')).toMatchObject({
      ok: false,
      message: expect.stringMatching(/Only an incident commander .* may unlock it, once the service is checked/),
    });
    expect((await w.runner.unlock('checkout', 'production', REQUESTER, 'checked', run.id)).ok).toBe(false);
    expect((await w.runner.unlock('checkout', 'production', IC, 'checked')).ok).toBe(true);
    expect((await w.deploy('deploy checkout v1.2.4 canary')).ok).toBe(true);
  });
});

describe('manual decisions', () => {
  it('with rollback-on-regression off, a regression asks a person; Accept continues to success', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3-slow canary', { canarySteps: [50, 100], rollbackOnRegression: false }));
    let accepts = 0;
    for (;;) {
      const v = await until(
        w.runner,
        run.id,
        (r) =>
          r.phase.status === 'awaiting-decision' ||
          r.phase.status === 'succeeded' ||
          r.phase.status === 'rolled-back' ||
          r.phase.status === 'failed',
      );
      if (v.phase.status !== 'awaiting-decision') break;
      expect(pendingDecision(v)?.explanation).toMatch(/p99/);
      const r = await w.runner.command(run.id, 'accept', REQUESTER);
      expect(r).toMatchObject({ ok: true, acted: true });
      accepts++;
    }
    const done = (await w.runner.get(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(accepts).toBeGreaterThan(0);
    expect((await w.runner.auditTrail(run.id)).filter((e) => e.action === 'accept')).toHaveLength(accepts);
    expect(readFileSync(reportPathOf(done)!, 'utf8')).toMatch(/accepted by dev/);
  });

  it('Rollback on a waiting decision rolls back and, being manual, releases the lock', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3-slow canary', { canarySteps: [50, 100], rollbackOnRegression: false }));
    await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision');
    const d = await w.runner.investigate(run.id, IC);
    expect(d.metrics.map((m) => m.metric)).toContain('p99 latency');
    expect(d.pods.length).toBeGreaterThan(0);
    expect(await w.runner.command(run.id, 'rollback', IC)).toMatchObject({ ok: true, acted: true });
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status).toBe('rolled-back');
    expect(rollbackOf((await w.runner.record(run.id))!)).toMatchObject({ automatic: false, by: 'ic (U_IC)' });
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
    expect(await servingImages(w, 'checkout')).toEqual([OLD]);
  });
});
