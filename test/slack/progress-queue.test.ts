import { describe, expect, it } from 'vitest';
import { PRIORITY, ProgressQueue } from '../../src/slack/progress-queue.js';

describe('ProgressQueue', () => {
  it('coalesces changes to one message: only the newest state is sent, at most once per interval', () => {
    const q = new ProgressQueue<string>({ perMessageIntervalMs: 1000 });
    q.offer('run1', 'a', PRIORITY.tick, 0);
    q.offer('run1', 'b', PRIORITY.tick, 10);
    const first = q.next(20);
    expect(first).toEqual({ send: { key: 'run1', content: 'b', priority: PRIORITY.tick } });
    q.taken('run1', 20);
    q.offer('run1', 'c', PRIORITY.tick, 30);
    q.offer('run1', 'd', PRIORITY.tick, 40);
    expect(q.next(500)).toEqual({ waitMs: 520 });
    expect(q.next(1020)).toMatchObject({ send: { content: 'd' } });
  });

  it('keeps the higher priority when a tick follows an important change of the same message', () => {
    const q = new ProgressQueue<string>();
    q.offer('r', 'decision', PRIORITY.important, 0);
    q.offer('r', 'decision+tick', PRIORITY.tick, 1);
    expect(q.next(2)).toEqual({ send: { key: 'r', content: 'decision+tick', priority: PRIORITY.important } });
  });

  it('sends final and important states before progress ticks of other runs', () => {
    const q = new ProgressQueue<string>();
    q.offer('tick1', 't1', PRIORITY.tick, 0);
    q.offer('tick2', 't2', PRIORITY.tick, 1);
    q.offer('imp', 'i', PRIORITY.important, 2);
    q.offer('fin', 'f', PRIORITY.final, 3);
    const order: string[] = [];
    for (let now = 10; q.size; now++) {
      const n = q.next(now);
      if ('send' in n) {
        order.push(n.send.key);
        q.taken(n.send.key, now);
      }
    }
    expect(order).toEqual(['fin', 'imp', 'tick1', 'tick2']);
  });

  it('shares one budget across runs and keeps a reserve for important changes', () => {
    const q = new ProgressQueue<string>({ budgetPerWindow: 5, reserveForImportant: 2, windowMs: 60_000, perMessageIntervalMs: 0 });
    for (let i = 0; i < 3; i++) {
      q.offer(`r${i}`, 'tick', PRIORITY.tick, 0);
      const n = q.next(i);
      expect('send' in n).toBe(true);
      q.taken(`r${i}`, i);
    }
    // 3 of 5 used: ticks must wait for the window, an important change may still go.
    q.offer('r9', 'tick', PRIORITY.tick, 5);
    expect(q.next(5)).toEqual({ waitMs: 60_000 - 5 });
    q.offer('r8', 'failed', PRIORITY.important, 6);
    expect(q.next(6)).toMatchObject({ send: { key: 'r8' } });
    q.taken('r8', 6);
    q.offer('r7', 'final', PRIORITY.final, 7);
    expect(q.next(7)).toMatchObject({ send: { key: 'r7' } });
    q.taken('r7', 7);
    // Budget spent: even a final state waits until the oldest call leaves the window.
    q.offer('r6', 'final', PRIORITY.final, 8);
    expect(q.next(8)).toEqual({ waitMs: 60_000 - 8 });
    expect(q.next(60_000)).toMatchObject({ send: { key: 'r6' } });
  });

  it('after a 429 pauses every message for Retry-After and never loses the final state', () => {
    const q = new ProgressQueue<string>({ perMessageIntervalMs: 0 });
    q.offer('a', 'final', PRIORITY.final, 0);
    q.offer('b', 'tick', PRIORITY.tick, 0);
    const n = q.next(0);
    expect(n).toMatchObject({ send: { key: 'a' } });
    q.taken('a', 0);
    q.failed('a', 'final', PRIORITY.final, 10, { retryAfterMs: 2000 });
    expect(q.next(11)).toEqual({ waitMs: 1999 });
    expect(q.next(2010)).toEqual({ send: { key: 'a', content: 'final', priority: PRIORITY.final } });
  });

  it('after a failure keeps a newer state that arrived meanwhile instead of the failed one', () => {
    const q = new ProgressQueue<string>({ perMessageIntervalMs: 0 });
    q.offer('a', 'old', PRIORITY.important, 0);
    q.taken('a', 0);
    q.offer('a', 'new', PRIORITY.tick, 1);
    q.failed('a', 'old', PRIORITY.important, 2, { delayMs: 100 });
    expect(q.next(50)).toEqual({ waitMs: 52 });
    expect(q.next(102)).toEqual({ send: { key: 'a', content: 'new', priority: PRIORITY.important } });
  });
});
