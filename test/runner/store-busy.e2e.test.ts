// A database write lock held by another writer for 25 s in the middle of a run (a backup, an
// admin's sqlite3 shell): the run holds (no cluster change without its record saved), then
// carries on and succeeds. It used to end the run loop with the database still saying running.
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { servingImages, started, startWorld, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('a busy database', () => {
  it('a write lock held 25 s mid-run: the run waits, then finishes', async () => {
    w = await startWorld({ speed: 50 });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100] }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));
    const other = new Database(w.dbFile);
    other.exec('BEGIN IMMEDIATE');
    const heldAt = Date.now();
    await new Promise((r) => setTimeout(r, 25_000));
    // Still running in the database as in memory: nothing disagrees while the lock is held.
    expect(other.prepare('SELECT status FROM runs WHERE id = ?').get(run.id)).toMatchObject({ status: 'running' });
    other.exec('COMMIT');
    other.close();
    const done = (await w.runner.settled(run.id))!;
    expect(Date.now() - heldAt).toBeGreaterThanOrEqual(25_000);
    expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.title}: ${s.detail}`).join('\n')).toBe('succeeded');
    expect(done.steps.filter((s) => s.status === 'failed')).toEqual([]);
  }, 90_000);

  it('a lasting write failure: the run is held with no further cluster change, and store-failed says so', async () => {
    w = await startWorld({ speed: 50, storeRetryMs: 3000 });
    const failed = new Promise<string>((resolve) => w!.runner.subscribe((ev) => ev.type === 'store-failed' && resolve(ev.message)));
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100] }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));
    const other = new Database(w.dbFile);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(await failed).toMatch(
        /^the database could not be written for 3 s .*held where it was last saved, with no further cluster change/,
      );
      const images = async () => JSON.stringify(await servingImages(w!, 'checkout'));
      const before = await images();
      await new Promise((r) => setTimeout(r, 2000));
      expect(await images()).toBe(before);
      expect(other.prepare('SELECT status FROM runs WHERE id = ?').get(run.id)).toMatchObject({ status: 'running' });
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
  }, 60_000);
});
