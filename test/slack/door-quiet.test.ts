// The door's order: work after an ack waits until every request that arrived is answered and
// none came for a moment, at most maxWaitMs, and runs one job per turn of the event loop.
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { Door } from '../../src/slack/door.js';

const response = () => new EventEmitter() as unknown as ServerResponse;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Door', () => {
  it('holds work while a request is unanswered, and starts it once answered and quiet', async () => {
    const door = new Door(10, 5_000);
    const res = response();
    door.arrived(res);
    const ran: string[] = [];
    door.later(() => ran.push('work'));
    await sleep(50);
    expect(ran).toEqual([]);
    res.emit('finish');
    await sleep(50);
    expect(ran).toEqual(['work']);
  });

  it('never holds work past maxWaitMs (a trigger_id lives 3 s)', async () => {
    const door = new Door(10, 100);
    door.arrived(response()); // never answered
    const started = performance.now();
    let at = 0;
    door.later(() => (at = performance.now() - started));
    await sleep(400);
    expect(at).toBeGreaterThanOrEqual(95);
    expect(at).toBeLessThan(400);
  });

  it('runs one job per turn: a request arriving between jobs is answered before the next job', async () => {
    const door = new Door(1, 5_000);
    const order: string[] = [];
    let late: ServerResponse | undefined;
    door.later(() => {
      order.push('job 1');
      // A request arrives while the work runs; it is answered on the next turn.
      late = response();
      door.arrived(late);
      setImmediate(() => {
        order.push('answer');
        late!.emit('finish');
      });
    });
    door.later(() => order.push('job 2'));
    await sleep(100);
    expect(order).toEqual(['job 1', 'answer', 'job 2']);
  });

  it('is quiet at once when nothing is waiting', async () => {
    const door = new Door(10, 5_000);
    const t0 = performance.now();
    await door.quiet();
    expect(performance.now() - t0).toBeLessThan(5);
  });
});
