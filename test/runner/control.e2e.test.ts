// People controlling runs: locks and queueing, double commands, permission refusals, approvals,
// cancel, pause/resume, promote and idempotent starts. Real sandbox, drivers and metrics.
import { afterEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, outcomeOf } from '../../src/domain/run.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { IC, REQUESTER, SHIPPED, STRANGER, servingImages, startWorld, started, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('locks', () => {
  it('refuses a second run with who holds the lock and since when, or queues it when asked', async () => {
    w = await startWorld();
    const a = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const b = await w.deploy('deploy checkout v1.2.4 rolling', {}, { requester: IC });
    expect(b).toMatchObject({ ok: false, reason: 'locked' });
    expect(!b.ok && b.message).toMatch(
      new RegExp(
        `^🔒 checkout in production is busy: dev is deploying v1\\.2\\.3 \\(run ${a.id}, since <!date\\^\\d+\\^[^|]+\\|.* UTC>\\)\\.\\nIt frees itself when that run ends`,
      ),
    );
    const c = started(await w.deploy('deploy checkout v1.2.4 rolling', {}, { requester: IC, queueIfLocked: true }));
    expect(c.phase.status).toBe('queued');
    // Another service or environment is not affected.
    expect((await w.deploy('deploy search v2.0.0 rolling')).ok).toBe(true);
    expect((await w.runner.settled(a.id))!.phase.status).toBe('succeeded');
    await until(w.runner, c.id, (r) => r.phase.status !== 'queued');
    const done = await until(w.runner, c.id, (r) => FINAL_STATUSES.has(r.phase.status));
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect((await w.runner.auditTrail(c.id)).map((e) => e.action)).toContain('dequeued');
  });

  it('a release stopped at the staging gate leaves production unlocked and deployable', async () => {
    w = await startWorld({ config: SHIPPED });
    const bad = started(await w.deploy('deploy checkout v1.2.3-errors canary'));
    const done = (await w.runner.settled(bad.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(done.steps.find((s) => s.key === 'staging-gate')?.status).toBe('failed');
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
    const next = started(await w.deploy('deploy checkout v1.2.4 rolling'));
    expect((await w.runner.settled(next.id))!.phase.status).toBe('succeeded');
  });

  it('deploys an image pinned by digest: repo@sha256:…, with a valid version label on its pods', async () => {
    w = await startWorld();
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    const run = started(await w.deploy(`deploy checkout@${digest} canary`, { canarySteps: [25, 100] }));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(await servingImages(w, 'checkout')).toEqual([`registry.example.com/shop/checkout@${digest}`]);
    const canary = await kubeFromKubeconfig(w.sandbox.kubeconfigYaml()).apps.readNamespacedDeployment({
      name: 'checkout-canary',
      namespace: 'production',
    });
    expect(canary.spec?.template.metadata?.labels?.version).toMatch(/^sha256-0123456789abcdef[0-9a-f-]*$/);
  });

  it('a manual lock blocks deploys until its holder or an incident commander unlocks it', async () => {
    w = await startWorld();
    expect((await w.runner.lock('checkout', 'production', STRANGER, 'incident 42')).ok).toBe(true);
    await w.clock.sleep(5 * 60_000); // 5 min on the run's clock, 3 s on the wall's (100× faster)
    const r = await w.deploy('deploy checkout v1.2.3 rolling');
    // "since" is the wall-clock moment the lock was taken (a second ago), not the run clock's.
    const since = Number(/<!date\^(\d+)\^/.exec(!r.ok ? r.message : '')?.[1]) * 1000;
    expect(Math.abs(Date.now() - since)).toBeLessThan(60_000);
    expect(w.clock.now() - since).toBeGreaterThan(4 * 60_000);
    expect(!r.ok && r.message).toMatch(
      /^🔒 checkout in production is locked by other: incident 42, since <!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>\.\nOnce it is checked, an incident commander unlocks it: `unlock checkout production`\.$/,
    );
    expect((await w.runner.unlock('checkout', 'production', REQUESTER)).ok).toBe(false);
    expect((await w.runner.unlock('checkout', 'production', IC)).ok).toBe(true);
    expect((await w.deploy('deploy checkout v1.2.3 rolling')).ok).toBe(true);
  });
});

describe('commands', () => {
  it('a Rollback pressed while a canary is being prepared never runs its stages (they went to 100% before)', async () => {
    w = await startWorld();
    const run = started(
      await w.deploy('deploy checkout v1.2.3 canary', { stageWindowSec: 600, observationSec: 600, canarySteps: [25, 50, 100] }),
    );
    await until(w.runner, run.id, (v) => v.steps.some((s) => s.key === 'prepare' && s.status === 'running'));
    expect(await w.runner.command(run.id, 'rollback', IC)).toMatchObject({ ok: true, acted: true });
    const end = (await w.runner.settled(run.id))!;
    expect(end.phase.status, outcomeOf(end)).toBe('rolled-back');
    expect(end.steps.filter((s) => s.key.startsWith('stage:')).every((s) => s.status === 'skipped')).toBe(true);
    expect(await servingImages(w, 'checkout')).toEqual(expect.arrayContaining([expect.stringMatching(/:v1\.2\.2$/)]));
    expect((await servingImages(w, 'checkout')).some((i) => i.endsWith(':v1.2.3'))).toBe(false);
  });

  it('Investigate is rate-limited per run: the fourth press within a minute is refused with when to retry', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    await w.runner.settled(run.id);
    for (let i = 0; i < 3; i++) expect((await w.runner.investigate(run.id, STRANGER)).pods).toBeDefined();
    await expect(w.runner.investigate(run.id, STRANGER)).rejects.toThrow(
      /already ran 3 times for this run in the last minute.*Try again in \d+ s/,
    );
  });

  it('the same Rollback twice acts once, and both are in the audit trail', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100], stageWindowSec: 3000 }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));
    // Rollback never waits on analysis: the 3000 s window is abandoned at once.
    const [x, y] = await Promise.all([w.runner.command(run.id, 'rollback', REQUESTER), w.runner.command(run.id, 'rollback', IC)]);
    expect([x, y].map((r) => r.ok && r.acted).sort()).toEqual([false, true]);
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, `${outcomeOf(done)} ${JSON.stringify(done.steps.slice(-5))}`).toBe('rolled-back');
    const actions = (await w.runner.auditTrail(run.id)).map((e) => e.action);
    expect(actions.filter((a) => a === 'rollback')).toHaveLength(1);
    expect(actions).toContain('rollback-repeated');
    expect(await w.runner.command(run.id, 'rollback', REQUESTER)).toMatchObject({ ok: true, acted: false });
    expect(await w.runner.command(run.id, 'accept', REQUESTER)).toMatchObject({ ok: false, reason: 'invalid-state' });
  });

  it('refuses people without the role, saying who may, and records the refusal', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100], stageWindowSec: 3000 }));
    await until(w.runner, run.id, (v) => v.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));
    const r = await w.runner.command(run.id, 'rollback', STRANGER);
    expect(r).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(!r.ok && r.message).toMatch(/Only the person who started it .* or incident commanders/);
    expect((await w.runner.auditTrail(run.id)).some((e) => e.action === 'rollback-refused' && e.actor.includes('U_OTHER'))).toBe(true);
    expect((await w.runner.get(run.id))!.phase.status).toBe('running');
    expect(await w.runner.command('nope', 'rollback', IC)).toMatchObject({ ok: false, reason: 'not-found' });
    await w.runner.command(run.id, 'cancel', IC);
    expect((await w.runner.settled(run.id))!.phase.status).toBe('rolled-back');
  });

  it('pause holds the run between steps, resume continues, promote cuts a window short', async () => {
    w = await startWorld();
    const run = started(
      await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [50, 100], stageWindowSec: 3000, observationSec: 3000 }),
    );
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === 'stage:canary-50' && s.status === 'running'));
    expect(await w.runner.command(run.id, 'pause', REQUESTER)).toMatchObject({ ok: true, acted: true });
    expect(await w.runner.command(run.id, 'pause', REQUESTER)).toMatchObject({ ok: true, acted: false });
    expect(await w.runner.command(run.id, 'promote', REQUESTER)).toMatchObject({ ok: false, reason: 'invalid-state' });
    expect(await w.runner.command(run.id, 'resume', REQUESTER)).toMatchObject({ ok: true, acted: true });
    // Promote through every 3000 s window.
    for (;;) {
      const v = await until(
        w.runner,
        run.id,
        (r) =>
          FINAL_STATUSES.has(r.phase.status) ||
          r.phase.status === 'awaiting-decision' ||
          w!.runner
            .record(r.id)
            .then((rec) =>
              r.steps.some(
                (s) =>
                  s.status === 'running' &&
                  (s.key.startsWith('stage:') || s.key === 'regression-gate') &&
                  !rec!.data.promotedSteps?.includes(s.key),
              ),
            ),
      );
      if (FINAL_STATUSES.has(v.phase.status) || v.phase.status === 'awaiting-decision') break;
      await w.runner.command(run.id, 'promote', IC);
    }
    const done = (await w.runner.get(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect((await w.runner.auditTrail(run.id)).map((e) => e.action)).toEqual(
      expect.arrayContaining(['pause', 'pause-repeated', 'resume', 'promote']),
    );
  });

  it('high-risk production waits for a second person; the requester cannot approve', async () => {
    w = await startWorld();
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling', { risk: 'high' }));
    expect(run.phase.status).toBe('pending-approval');
    expect(await w.runner.command(run.id, 'approve', REQUESTER)).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(await w.runner.command(run.id, 'approve', STRANGER)).toMatchObject({ ok: false, reason: 'forbidden' });
    expect(await w.runner.command(run.id, 'approve', IC)).toMatchObject({ ok: true, acted: true });
    expect(await w.runner.command(run.id, 'approve', IC)).toMatchObject({ ok: true, acted: false });
    const done = (await w.runner.settled(run.id))!;
    // Approved, the release rolled out and was judged. High risk tolerates no regression at all,
    // and a healthy build's 0.2% errors read 0.3% by chance about once in a hundred runs (p < 0.01;
    // CI, session 12): then it is rightly rolled back. The approval is what this test is about.
    expect(['succeeded', 'rolled-back'], outcomeOf(done)).toContain(done.phase.status);
    expect(done.steps.find((s) => s.key === 'stage:rolling-update')?.status).toBe('done');
    expect((await w.runner.record(run.id))!.data.validation?.find((c) => c.name === 'approval')).toMatchObject({
      ok: true,
      detail: 'approved by U_IC',
    });
  });

  it('cancel before anything changed ends the run and frees the lock; the same dedupe key starts one run', async () => {
    w = await startWorld();
    const a = started(await w.deploy('deploy checkout v1.2.3 rolling', { risk: 'high' }, { dedupeKey: 'C1:1.1' }));
    const b = started(await w.deploy('deploy checkout v1.2.3 rolling', { risk: 'high' }, { dedupeKey: 'C1:1.1' }));
    expect(b.id).toBe(a.id);
    expect((await w.runner.list()).filter((r) => r.service === 'checkout')).toHaveLength(1);
    expect(await w.runner.command(a.id, 'cancel', REQUESTER)).toMatchObject({ ok: true, acted: true });
    expect(await w.runner.command(a.id, 'cancel', REQUESTER)).toMatchObject({ ok: true, acted: false });
    expect((await w.runner.get(a.id))!.phase.status).toBe('cancelled');
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
  });
});
