// The cron wrapper: node-cron wakes the scheduler (here every second), which starts what is due;
// stop() ends it. A bad expression is refused with a sentence saying what to use.
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { bookSchedule, startScheduler } from '../../src/schedule/index.js';
import { waitFor } from '../slack/harness.js';
import { DEV, MIN, startWorld, type World } from './world.js';

let w: World;
afterEach(async () => {
  await w?.close();
});

describe('startScheduler', () => {
  it('ticks on its cron expression and starts a due schedule; stop() ends it', async () => {
    w = await startWorld();
    const { request, plan } = w.plan('deploy search v2.0.0 rolling', { risk: 'high' });
    const booked = await bookSchedule(w, { request, plan, requester: DEV, at: new Date(w.clock.now() + MIN).toISOString() });
    if (!booked.ok) throw new Error(booked.message);
    w.clock.advance(2 * MIN);
    const cron = startScheduler({
      store: w.store,
      schedules: w.schedules,
      runner: w.runner,
      config: w.config,
      clock: w.clock,
      logger: createLogger('silent'),
      cron: '* * * * * *',
    });
    try {
      const started = await waitFor(
        'the cron tick to start the schedule',
        async () => (await w.scheduler.schedules.get(booked.schedule.id))?.status === 'started',
        10_000,
      );
      expect(started).toBe(true);
    } finally {
      await cron.stop();
    }
    expect(await w.store.listRuns({ service: 'search' })).toHaveLength(1);
  });

  it('refuses an invalid cron expression', async () => {
    w = await startWorld();
    expect(() =>
      startScheduler({
        store: w.store,
        schedules: w.schedules,
        runner: w.runner,
        config: w.config,
        clock: w.clock,
        logger: createLogger('silent'),
        cron: 'every minute',
      }),
    ).toThrow(/not a valid cron expression/);
  });
});
