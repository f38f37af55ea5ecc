// Slack's requests are answered before the work they start. In a burst (100 people pressing
// Configure… at once) each listener's work after its ack (views.open through the Web API client,
// about 3 ms of this process's time) ran before the next request was read, so the hundredth ack
// waited for 99 of them: p99 ~350 ms. Here an `await ack()` (the listener's, or Bolt's own for
// events) returns only once every request that has arrived is answered and no other came for a
// moment, or after `maxWaitMs` (a trigger_id lives 3 s): the acks of a burst go out first and the
// work follows.
import type { ServerResponse } from 'node:http';

export class Door {
  private unanswered = 0;
  private lastArrival = -Infinity;

  /**
   * @param gapMs how long no request may have arrived for the door to count as quiet: in a burst
   *   the next requests are still in the socket buffers, unseen, while this process works
   * @param maxWaitMs the longest a listener's work waits (a trigger_id lives 3 s)
   */
  constructor(
    private readonly gapMs = 10,
    private readonly maxWaitMs = 500,
  ) {}

  /** A request came in: unanswered until its response is sent (or its connection closed). */
  arrived(res: ServerResponse): void {
    this.unanswered++;
    this.lastArrival = performance.now();
    let left = false;
    const leave = () => {
      if (left) return;
      left = true;
      this.unanswered--;
    };
    res.once('finish', leave);
    res.once('close', leave);
  }

  private isQuiet(): boolean {
    return this.unanswered === 0 && performance.now() - this.lastArrival >= this.gapMs;
  }

  /**
   * Resolves when every request that arrived is answered and none came for `gapMs` (at once when
   * so), or at `until` (by default `maxWaitMs` from now).
   */
  async quiet(until = performance.now() + this.maxWaitMs): Promise<void> {
    while (!this.isQuiet() && performance.now() < until) await new Promise((r) => setTimeout(r, this.gapMs));
  }

  private queue: Array<{ job: () => void; until: number }> = [];
  private draining = false;

  /**
   * Starts `job` once the door is quiet (at the latest `maxWaitMs` after now), one job per turn of
   * the event loop, so requests that arrive meanwhile are read and answered between jobs.
   */
  later(job: () => void): void {
    this.queue.push({ job, until: performance.now() + this.maxWaitMs });
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      await this.quiet(next.until);
      await new Promise((r) => setImmediate(r));
      next.job();
    }
    this.draining = false;
  }
}
