// Scheduled deploys: booked in SQLite, claimed by a tick in one transaction, started through the
// real runner with its checks. Due schedules start exactly once — two ticks at once, a tick
// after, a crash between claim and start, a reopened database — and cancelled ones never.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bookSchedule, cancelSchedule, describeSchedules, overrideFreeze } from '../../src/schedule/index.js';
import { STEP } from '../../src/runner/model/steps.js';
import { DEV, IC, MIN, SHIPPED, startWorld, type World } from './world.js';

const THREAD = { kind: 'slack' as const, channel: 'C_DEPLOYS', threadTs: '1700000000.000100' };
let w: World;

afterEach(async () => {
  await w?.close();
});

async function book(text: string, inMin: number, over: Parameters<World['plan']>[1] = { risk: 'high' }) {
  const { request, plan } = w.plan(text, over);
  const res = await bookSchedule(w, {
    request,
    plan,
    requester: DEV,
    at: new Date(w.clock.now() + inMin * MIN).toISOString(),
    notify: THREAD,
  });
  if (!res.ok) throw new Error(res.message);
  return res;
}

const runsOf = async (service: string) => await w.store.listRuns({ service });

describe('scheduled deploys', () => {
  beforeEach(async () => {
    w = await startWorld();
  });

  it('starts a due schedule exactly once: not early, once for two ticks at once, never again after a restart', async () => {
    // High risk: the run waits for an approval, so nothing touches the cluster during the test.
    const { schedule } = await book('deploy checkout v1.3.0 canary', 10);
    expect(describeSchedules(await w.scheduler.schedules.list())).toContain(`\`${schedule.id}\``);

    expect((await w.scheduler.tick()).started).toEqual([]);
    expect(await runsOf('checkout')).toHaveLength(0);

    w.clock.advance(11 * MIN);
    const [a, b] = await Promise.all([w.scheduler.tick(), w.scheduler.tick()]);
    const third = await w.scheduler.tick();
    // Overlapping ticks share one pass (and its report); the database decides what started.
    const runIds = new Set([...a.started, ...b.started, ...third.started].map((s) => s.runId));
    expect(third.started).toEqual([]);
    expect(runIds.size).toBe(1);
    expect(await runsOf('checkout')).toHaveLength(1);
    const [runId] = [...runIds] as [string];

    const run = (await w.runner.get(runId))!;
    expect(run).toMatchObject({
      service: 'checkout',
      version: 'v1.3.0',
      phase: { status: 'pending-approval' },
      origin: { kind: 'slack', channel: 'C_DEPLOYS', threadTs: THREAD.threadTs },
    });
    expect(await w.scheduler.schedules.get(schedule.id)).toMatchObject({ status: 'started', runId });
    expect((await w.runner.auditTrail(runId)).map((e) => e.action)).toContain('schedule-start');

    w.restart();
    expect((await w.scheduler.tick()).started).toEqual([]);
    expect((await runsOf('checkout')).map((r) => r.id)).toEqual([runId]);
  });

  it('a schedule claimed just before a crash starts once after the restart', async () => {
    const { schedule } = await book('deploy search v2.0.0 rolling', 5);
    w.clock.advance(6 * MIN);
    // The first half of a tick, then the process dies: the row is claimed but no run exists.
    expect((await w.scheduler.schedules.claimDue(w.clock.now())).map((s) => s.id)).toEqual([schedule.id]);
    expect((await w.scheduler.schedules.get(schedule.id))?.status).toBe('starting');

    w.restart();
    const first = await w.scheduler.tick();
    const again = await w.scheduler.tick();
    expect(first.started.map((s) => s.scheduleId)).toEqual([schedule.id]);
    expect(again.started).toEqual([]);
    expect(await runsOf('search')).toHaveLength(1);
  });

  it('two processes on one database (two stores, two schedulers) start a due schedule once', async () => {
    await book('deploy payments v3.1.0 canary', 1);
    const first = w.scheduler;
    w.restart(); // a second store and scheduler on the same file; the first stays open
    w.clock.advance(2 * MIN);
    const reports = await Promise.all([first.tick(), w.scheduler.tick()]);
    expect(reports.flatMap((r) => r.started)).toHaveLength(1);
    expect(await runsOf('payments')).toHaveLength(1);
  });

  it('cancelled schedules never start; only the requester or an incident commander may cancel', async () => {
    const keep = (await book('deploy checkout v1.4.0 canary', 10)).schedule;
    const drop = (await book('deploy search v2.1.0 rolling', 10)).schedule;

    const stranger = await cancelSchedule(w, drop.id, { userId: 'U_OTHER', name: 'other' });
    expect(stranger).toMatchObject({ ok: false });
    expect(stranger.message).toContain('Only dev (U_DEV)');
    expect(await cancelSchedule(w, drop.id, DEV)).toMatchObject({ ok: true });
    expect((await cancelSchedule(w, drop.id, DEV)).message).toContain('is cancelled');
    expect(await cancelSchedule(w, 's-nope', IC)).toMatchObject({
      ok: false,
      message: expect.stringContaining('No scheduled deploy s-nope'),
    });
    expect((await w.scheduler.schedules.list()).map((s) => s.id)).toEqual([keep.id]);

    w.clock.advance(11 * MIN);
    const tick = await w.scheduler.tick();
    expect(tick.started.map((s) => s.scheduleId)).toEqual([keep.id]);
    expect(await runsOf('search')).toHaveLength(0);
    expect(await w.scheduler.schedules.get(drop.id)).toMatchObject({ status: 'cancelled', note: 'cancelled by dev (U_DEV)' });
    expect((await w.runner.auditTrail()).some((e) => e.action === 'schedule-cancel' && e.detail.startsWith(drop.id))).toBe(true);
    // Once started it is the run that gets cancelled, not the schedule.
    expect((await cancelSchedule(w, keep.id, DEV)).message).toContain('cancel the run instead');
  });

  it('a schedule found hours late (Shipbot was down) is not started, and the thread is told why', async () => {
    const { schedule } = await book('deploy checkout v1.5.0 canary', 5);
    w.clock.advance(3 * 60 * MIN);
    const tick = await w.scheduler.tick();
    expect(tick.started).toEqual([]);
    expect(tick.refused[0]).toMatchObject({ scheduleId: schedule.id, note: expect.stringContaining('missed') });
    expect(await runsOf('checkout')).toHaveLength(0);
    expect(w.posts.find((p) => p.threadTs === THREAD.threadTs)?.text).toContain(`${schedule.id} (checkout v1.5.0) was not started`);
  });

  it('refuses times that have passed', async () => {
    const { request, plan } = w.plan('deploy checkout v1.3.0 canary');
    const res = await bookSchedule(w, { request, plan, requester: DEV, at: new Date(w.clock.now() - MIN).toISOString() });
    expect(res).toMatchObject({ ok: false, message: expect.stringContaining('already passed') });
  });
});

describe('freeze windows', () => {
  beforeEach(async () => {
    const base = await startWorld();
    // Frozen for this hour and the next two (UTC): long enough for the test, short enough that
    // finding where the freeze ends stays cheap.
    const h = new Date(base.clock.now()).getUTCHours();
    const hours = [h, (h + 1) % 24, (h + 2) % 24].join(',');
    const config = {
      ...base.config,
      freezeWindows: [{ cron: `* ${hours} * * *`, reason: 'year-end freeze', environments: ['production' as const] }],
    };
    await base.close();
    w = await startWorld({ config });
  });

  it('the runner refuses a scheduled deploy inside a freeze; an incident commander override starts it, audited', async () => {
    const frozen = await book('deploy payments v3.2.0 canary', 5, {});
    expect(frozen.warning).toContain('year-end freeze');
    const overridden = (await book('deploy checkout v1.3.0 canary', 5, {})).schedule;

    expect(await overrideFreeze(w, overridden.id, DEV, 'hotfix')).toMatchObject({
      ok: false,
      message: expect.stringContaining('Only incident commanders'),
    });
    expect(await overrideFreeze(w, overridden.id, IC, '')).toMatchObject({ ok: false });
    expect(await overrideFreeze(w, overridden.id, IC, 'hotfix for INC-42')).toMatchObject({ ok: true });

    w.clock.advance(6 * MIN);
    const tick = await w.scheduler.tick();
    expect(tick.refused).toEqual([{ scheduleId: frozen.schedule.id, note: expect.stringContaining('Deploys are frozen') }]);
    expect((await w.scheduler.schedules.get(frozen.schedule.id))?.status).toBe('refused');
    expect(
      w.posts.some((p) => p.threadTs === THREAD.threadTs && p.text.includes(`${frozen.schedule.id}`) && p.text.includes('year-end freeze')),
    ).toBe(true);
    expect((await w.runner.auditTrail()).some((e) => e.action === 'schedule-frozen' && e.detail.startsWith(frozen.schedule.id))).toBe(true);
    expect((await w.runner.auditTrail()).some((e) => e.action === 'schedule-freeze-override' && e.actor === 'ic (U_IC)')).toBe(true);

    expect(tick.started).toHaveLength(1);
    const runId = tick.started[0]!.runId;
    const trail = await w.runner.auditTrail(runId);
    expect(trail.find((e) => e.action === 'freeze-override')).toMatchObject({
      actor: 'ic (U_IC)',
      detail: expect.stringContaining('hotfix for INC-42'),
    });
    expect((await w.runner.record(runId))?.data.freezeOverride).toMatchObject({ by: 'ic (U_IC)', reason: 'hotfix for INC-42' });

    // The run's own validation step passes the freeze check with the override noted.
    const validated = await new Promise<string>((resolve) => {
      const check = async () => {
        const step = (await w.runner.get(runId))?.steps.find((s) => s.key === STEP.validate);
        if (step && step.status !== 'pending' && step.status !== 'running') resolve(`${step.status}: ${step.detail}`);
      };
      w.runner.subscribe(() => void check());
      void check();
    });
    expect(validated).toMatch(/^(done|warning)/);
    expect((await w.runner.record(runId))?.data.validation?.find((c) => c.name === 'freeze window')).toMatchObject({
      ok: true,
      detail: expect.stringContaining('Overridden by ic (U_IC)'),
    });
    await w.runner.command(runId, 'cancel', DEV);
    expect((await w.runner.settled(runId))?.phase.status).toMatch(/cancelled|rolled-back/);
  });

  it('the runner refuses an override from someone who is not an incident commander', async () => {
    const { request, plan } = w.plan('deploy checkout v1.3.0 canary');
    const res = await w.runner.start({
      request,
      plan,
      requester: DEV,
      origin: { kind: 'terminal' },
      freezeOverride: { actor: DEV, reason: 'please' },
    });
    expect(res).toMatchObject({ ok: false, reason: 'forbidden', message: expect.stringContaining('Only incident commanders') });
    const plain = await w.runner.start({ request, plan, requester: DEV, origin: { kind: 'terminal' } });
    expect(plain).toMatchObject({ ok: false, reason: 'frozen' });
    expect(SHIPPED.roles?.incidentCommanders).toContain('U_IC');
  });
});
