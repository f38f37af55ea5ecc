// Runs stuck waiting for a person: a reminder in their thread once, then a safe stop through the
// runner's cancel command (cancelled before the cluster changed, rolled back after). Marks live
import { phaseFor } from '../helpers/plan.js';
// in SQLite, so a restart neither repeats the reminder nor forgets it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reapDecision } from '../../src/schedule/index.js';
import { DEV, MIN, startWorld, type World } from './world.js';

const THREAD = { kind: 'slack' as const, channel: 'C_DEPLOYS', threadTs: '1700000000.000200' };
let w: World;

beforeEach(async () => {
  w = await startWorld({ scheduler: { reap: { remindAfterMin: 30, stopAfterMin: 120 } } });
});
afterEach(async () => {
  await w.close();
});

describe('reaper', () => {
  it('reminds once in the thread after 30 min, then stops the run safely after 120 min', async () => {
    const { request, plan } = w.plan('deploy checkout v1.3.0 canary', { risk: 'high' });
    const res = await w.runner.start({ request, plan, requester: DEV, origin: THREAD });
    if (!res.ok) throw new Error(res.message);
    const runId = res.run.id;
    expect(res.run.phase.status).toBe('pending-approval');
    const inThread = () => w.posts.filter((p) => p.threadTs === THREAD.threadTs);

    w.clock.advance(20 * MIN);
    expect((await w.scheduler.tick()).reminded).toEqual([]);

    w.clock.advance(11 * MIN);
    expect((await w.scheduler.tick()).reminded).toEqual([runId]);
    expect(inThread()).toHaveLength(1);
    expect(inThread()[0]!.text).toMatch(/^⏰ Run r-\w+ \(checkout v1\.3\.0 to production\) has waited 31 min for an approval/);
    expect((await w.scheduler.tick()).reminded).toEqual([]);
    w.restart();
    expect((await w.scheduler.tick()).reminded).toEqual([]);
    expect(inThread()).toHaveLength(1);
    expect((await w.runner.get(runId))?.phase.status).toBe('pending-approval');

    w.clock.advance(90 * MIN);
    const tick = await w.scheduler.tick();
    expect(tick.stopped).toEqual([runId]);
    expect(tick.errors).toEqual([]);
    expect((await w.runner.get(runId))?.phase.status).toBe('cancelled');
    const trail = (await w.runner.auditTrail(runId)).map((e) => `${e.actor}: ${e.action}`);
    expect(trail).toEqual(
      expect.arrayContaining([
        'shipbot: reminder',
        'shipbot: reap',
        expect.stringMatching(/^Shipbot, after \d+ min without a decision \(U_DEV\): cancel$/),
      ]),
    );
    expect(inThread().at(-1)!.text).toContain(`⏹️ Run ${runId} waited 121 min for an approval and was stopped safely`);
    expect((await w.scheduler.tick()).stopped).toEqual([]);
  });

  it('posts the daily digest to the stakeholder channel once a day', async () => {
    const first = await w.scheduler.tick();
    expect(first.digest).toContain('*Shipbot daily digest*');
    expect(w.posts.filter((p) => p.channel === '#deploy-announcements')).toHaveLength(1);
    w.clock.advance(60 * MIN);
    expect((await w.scheduler.tick()).digest).toBeUndefined();
    w.clock.advance(24 * 60 * MIN);
    expect((await w.scheduler.tick()).digest).toBeDefined();
    expect(w.posts.filter((p) => p.channel === '#deploy-announcements')).toHaveLength(2);
  });
});

describe('reapDecision', () => {
  const o = { remindAfterMin: 30, stopAfterMin: 120 };
  it('leaves running and ended runs alone, reminds, then stops', () => {
    expect(reapDecision({ phase: phaseFor('running') }, 0, 500 * MIN, o)).toEqual({ action: 'none' });
    expect(reapDecision({ phase: phaseFor('succeeded') }, 0, 500 * MIN, o)).toEqual({ action: 'none' });
    expect(reapDecision({ phase: phaseFor('awaiting-decision') }, 0, 29 * MIN, o)).toEqual({ action: 'none' });
    expect(reapDecision({ phase: phaseFor('awaiting-decision') }, 0, 30 * MIN, o)).toEqual({ action: 'remind', waitedMin: 30 });
    expect(reapDecision({ phase: phaseFor('paused') }, 0, 119 * MIN, o)).toEqual({ action: 'remind', waitedMin: 119 });
    expect(reapDecision({ phase: phaseFor('pending-approval') }, 0, 120 * MIN, o)).toEqual({ action: 'stop', waitedMin: 120 });
  });
});
