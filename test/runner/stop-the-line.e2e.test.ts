// "stop all deploys <reason>": an incident commander halts a canary, a blue-green and a rolling
// release in flight at their next safe point; nothing moves while the line is stopped, new deploys
// are refused, a restart keeps it all stopped, and "resume deploys" lets the held runs go on.
import { afterEach, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, outcomeOf } from '../../src/domain/run.js';
import { IC, REQUESTER, servingImages, started, startWorld, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('stop the line', () => {
  it('halts three runs at safe points, refuses new deploys, survives a restart, and resumes', async () => {
    w = await startWorld();
    const slow = { stageWindowSec: 600, observationSec: 600 };
    const runs = [
      started(await w.deploy('deploy checkout v1.2.3 canary', { ...slow, canarySteps: [25, 50, 100] })),
      started(await w.deploy('deploy search v1.2.3 blue-green', slow)),
      started(await w.deploy('deploy web v1.2.3 rolling', slow)),
    ];
    // Each is inside its first monitored stage: the cluster has changed.
    for (const r of runs) await until(w.runner, r.id, (v) => v.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));

    expect(await w.runner.stopAll(REQUESTER, 'db outage')).toMatchObject({ ok: false, acted: false });
    const stop = await w.runner.stopAll(IC, 'db outage, INC-7');
    expect(stop).toMatchObject({ ok: true, acted: true });
    expect(stop.message).toMatch(/All deploys stopped by ic: db outage, INC-7/);
    expect(await w.runner.stopAll(IC, 'again')).toMatchObject({ ok: true, acted: false });

    const held = await Promise.all(
      runs.map((r) => until(w!.runner, r.id, (v) => v.phase.status === 'paused' || FINAL_STATUSES.has(v.phase.status))),
    );
    for (const v of held) {
      expect(v.phase.status, `${v.service}: ${outcomeOf(v)}`).toBe('paused');
      expect(v.stage).toMatch(/all deploys stopped by ic: db outage, INC-7/);
      expect(v.steps.some((s) => s.status === 'running')).toBe(false);
    }
    // Nothing moves while stopped: the steps and what users are served stay as they were.
    const before = await Promise.all(
      runs.map(async (r) => ({ steps: (await w!.runner.get(r.id))!.steps, serving: await servingImages(w!, r.service) })),
    );
    await new Promise((r) => setTimeout(r, 1500));
    for (const [i, r] of runs.entries()) {
      expect((await w.runner.get(r.id))!.steps).toEqual(before[i]!.steps);
      expect((await servingImages(w, r.service)).sort()).toEqual(before[i]!.serving.sort());
    }
    // New deploys, approvals and the requester's resume are refused, with who and why.
    const fresh = await w.deploy('deploy catalog v1.2.3 rolling');
    expect(fresh).toMatchObject({ ok: false, reason: 'frozen', message: expect.stringMatching(/stopped by ic: db outage/) });
    expect(await w.runner.command(runs[0]!.id, 'resume', REQUESTER)).toMatchObject({ ok: false, reason: 'forbidden' });

    // A restart keeps it stopped.
    await w.runner.shutdown();
    const runner = w.restart();
    await runner.resumeInFlight();
    expect(await runner.lineStop()).toMatchObject({ reason: 'db outage, INC-7' });
    for (const r of runs) expect((await runner.get(r.id))!.phase.status).toBe('paused');
    expect(await w.deploy('deploy catalog v1.2.3 rolling')).toMatchObject({ ok: false, reason: 'frozen' });
    expect((await w.store.auditTrail()).map((e) => e.action)).toEqual(
      expect.arrayContaining(['stop-all', 'stop-all-refused', 'line-stopped']),
    );

    // Resume deploys: the held runs go on; Rollback still works as ever.
    expect(await runner.resumeAll(REQUESTER)).toMatchObject({ ok: false });
    expect(await runner.resumeAll(IC)).toMatchObject({ ok: true, acted: true });
    expect(await runner.lineStop()).toBeUndefined();
    for (const r of runs) {
      await until(runner, r.id, (v) => v.phase.status !== 'paused');
      expect(await runner.command(r.id, 'rollback', IC)).toMatchObject({ ok: true });
      const end = (await runner.settled(r.id))!;
      expect(end.phase.status, `${end.service}: ${outcomeOf(end)}`).toBe('rolled-back');
    }
    expect(started(await w.deploy('deploy catalog v1.2.3 rolling')).phase.status).not.toBe('paused');
  });
});
