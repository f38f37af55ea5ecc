// Which progress message to edit next, and when. Pure bookkeeping, no I/O and no timers: the
// caller passes `now` and gets back either something to send or how long to wait.
//
// Two limits shape it. Each message is edited at most once per `perMessageIntervalMs`
// (changes in between are coalesced: only the newest content is sent). And chat.update is
// Slack's Tier 3, about 50 calls a minute for the whole workspace, shared by every run in
// flight: progress ticks leave `reserveForImportant` calls of that budget free, so a failure,
// a decision asked for or a final state goes first. A 429 pauses everything for Retry-After.

export const PRIORITY = { tick: 0, important: 1, final: 2 } as const;
export type Priority = (typeof PRIORITY)[keyof typeof PRIORITY];

export interface QueueOptions {
  perMessageIntervalMs: number;
  budgetPerWindow: number;
  windowMs: number;
  reserveForImportant: number;
}

export const DEFAULT_QUEUE_OPTIONS: QueueOptions = {
  perMessageIntervalMs: 1000,
  budgetPerWindow: 50,
  windowMs: 60_000,
  reserveForImportant: 10,
};

interface Pending<T> {
  content: T;
  priority: Priority;
  /** When the oldest unsent change arrived (fairness between messages of equal priority). */
  since: number;
}

export type Next<T> = { send: { key: string; content: T; priority: Priority } } | { waitMs: number } | { idle: true };

export class ProgressQueue<T> {
  private pending = new Map<string, Pending<T>>();
  private lastEdit = new Map<string, number>();
  private sends: number[] = [];
  private pausedUntil = 0;
  readonly opts: QueueOptions;

  constructor(opts: Partial<QueueOptions> = {}) {
    this.opts = { ...DEFAULT_QUEUE_OPTIONS, ...opts };
  }

  /** A newer state for a message replaces the unsent one; its priority never drops below what is waiting. */
  offer(key: string, content: T, priority: Priority, now: number): void {
    const prev = this.pending.get(key);
    this.pending.set(key, {
      content,
      priority: prev ? (Math.max(prev.priority, priority) as Priority) : priority,
      since: prev ? prev.since : now,
    });
  }

  get size(): number {
    return this.pending.size;
  }

  has(key: string): boolean {
    return this.pending.has(key);
  }

  next(now: number): Next<T> {
    if (this.pending.size === 0) return { idle: true };
    if (now < this.pausedUntil) return { waitMs: this.pausedUntil - now };
    this.sends = this.sends.filter((t) => now - t < this.opts.windowMs);
    const used = this.sends.length;
    const budgetWait = this.sends.length ? this.sends[0]! + this.opts.windowMs - now : this.opts.windowMs;

    let best: { key: string; p: Pending<T> } | undefined;
    let soonest = Infinity;
    for (const [key, p] of this.pending) {
      const readyAt = (this.lastEdit.get(key) ?? -Infinity) + this.opts.perMessageIntervalMs;
      const limit = p.priority === PRIORITY.tick ? this.opts.budgetPerWindow - this.opts.reserveForImportant : this.opts.budgetPerWindow;
      const waitBudget = used >= limit ? budgetWait : 0;
      const wait = Math.max(readyAt - now, waitBudget, 0);
      if (wait > 0) {
        soonest = Math.min(soonest, wait);
        continue;
      }
      if (!best || p.priority > best.p.priority || (p.priority === best.p.priority && p.since < best.p.since)) best = { key, p };
    }
    if (!best) return { waitMs: soonest };
    return { send: { key: best.key, content: best.p.content, priority: best.p.priority } };
  }

  /** Call when a send starts: it counts against the budget whether or not it succeeds. */
  taken(key: string, now: number): void {
    this.pending.delete(key);
    this.sends.push(now);
    this.lastEdit.set(key, now);
  }

  /**
   * A send failed. Unless a newer state arrived meanwhile, the content goes back in the queue.
   * `retryAfterMs` (from a 429) pauses every message: the budget is the workspace's.
   * `delayMs` holds back only this message (a retry after another kind of failure).
   */
  failed(key: string, content: T, priority: Priority, now: number, wait: { retryAfterMs?: number; delayMs?: number } = {}): void {
    if (wait.retryAfterMs !== undefined) this.pausedUntil = Math.max(this.pausedUntil, now + wait.retryAfterMs);
    if (wait.delayMs !== undefined) this.lastEdit.set(key, now + wait.delayMs - this.opts.perMessageIntervalMs);
    const newer = this.pending.get(key);
    if (newer) {
      newer.priority = Math.max(newer.priority, priority) as Priority;
      return;
    }
    this.pending.set(key, { content, priority, since: now });
  }

  /** Forget a message (deleted, or its run is gone). */
  drop(key: string): void {
    this.pending.delete(key);
  }
}
