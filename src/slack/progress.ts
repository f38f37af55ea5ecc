// Keeps each run's progress message in the thread up to date. Runner events go into a
// ProgressQueue (coalescing per message, one shared chat.update budget, priorities); this file
// is the thin loop that asks the queue what to send and calls chat.update.
// It uses its own WebClient with `rejectRateLimitedCalls`: a 429 on a progress edit comes back
// here (and pauses only progress edits) instead of pausing the client every listener shares.
import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';
import { FINAL_STATUSES, type RunView } from '../domain/run.js';
import { progressMessage } from './blocks/progress.js';
import { PRIORITY, ProgressQueue, type Priority, type QueueOptions } from './progress-queue.js';

export interface ProgressTarget {
  channel: string;
  ts: string;
}

export interface ProgressUpdaterOptions {
  client: WebClient;
  logger: Logger;
  queue?: Partial<QueueOptions>;
  /** Attempts for a final state that fails with something other than a 429 (which is always retried). */
  finalAttempts?: number;
}

export class ProgressUpdater {
  private readonly queue: ProgressQueue<RunView>;
  private readonly targets = new Map<string, ProgressTarget>();
  private readonly attempts = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private sending = false;
  private stopped = false;
  private idleWaiters: Array<() => void> = [];
  /** Counts for the bench and for logs. */
  readonly stats = { sent: 0, rateLimited: 0, failed: 0, offered: 0 };

  constructor(private readonly opts: ProgressUpdaterOptions) {
    this.queue = new ProgressQueue<RunView>(opts.queue);
  }

  /** Which message shows run `runId`. */
  track(runId: string, target: ProgressTarget): void {
    this.targets.set(runId, target);
  }

  target(runId: string): ProgressTarget | undefined {
    return this.targets.get(runId);
  }

  /** A new state of a run; `important` (failure, decision, approval) goes before progress ticks. */
  offer(run: RunView, important: boolean): void {
    if (this.stopped || !this.targets.has(run.id)) return;
    const priority: Priority = FINAL_STATUSES.has(run.phase.status) ? PRIORITY.final : important ? PRIORITY.important : PRIORITY.tick;
    this.stats.offered++;
    this.queue.offer(run.id, run, priority, Date.now());
    this.pump();
  }

  /** Resolves once every offered state has been sent (or given up on). */
  async flush(): Promise<void> {
    if (this.queue.size === 0 && !this.sending) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    if (this.sending || this.stopped) return;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const next = this.queue.next(Date.now());
    if ('idle' in next) {
      for (const w of this.idleWaiters.splice(0)) w();
      return;
    }
    if ('waitMs' in next) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.pump();
      }, next.waitMs);
      return;
    }
    const { key, content, priority } = next.send;
    this.queue.taken(key, Date.now());
    this.sending = true;
    void this.send(key, content, priority).finally(() => {
      this.sending = false;
      this.pump();
    });
  }

  private async send(runId: string, run: RunView, priority: Priority): Promise<void> {
    const target = this.targets.get(runId)!;
    const log = this.opts.logger.child({ runId });
    try {
      await this.opts.client.chat.update({ channel: target.channel, ts: target.ts, ...progressMessage(run) });
      this.stats.sent++;
      this.attempts.delete(runId);
      // Done with this message unless the run moves again (the runner's event re-tracks it).
      if (FINAL_STATUSES.has(run.phase.status) && !this.queue.has(runId)) this.targets.delete(runId);
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
      if (e.code === 'slack_webapi_rate_limited_error') {
        this.stats.rateLimited++;
        log.warn({ retryAfterSec: e.retryAfter }, 'chat.update rate limited; progress edits wait for Retry-After');
        this.queue.failed(runId, run, priority, Date.now(), { retryAfterMs: Math.max(0, e.retryAfter ?? 1) * 1000 });
        return;
      }
      this.stats.failed++;
      const attempts = (this.attempts.get(runId) ?? 0) + 1;
      this.attempts.set(runId, attempts);
      const permanent = e.data?.error === 'message_not_found' || e.data?.error === 'channel_not_found';
      if (priority === PRIORITY.final && !permanent && attempts < (this.opts.finalAttempts ?? 5)) {
        log.warn({ err, slackError: e.data?.error, attempts }, 'final progress update failed; retrying');
        this.queue.failed(runId, run, priority, Date.now(), { delayMs: 1000 * 2 ** (attempts - 1) });
        return;
      }
      log.warn({ err, slackError: e.data?.error }, 'progress update failed; the next change will try again');
    }
  }
}
