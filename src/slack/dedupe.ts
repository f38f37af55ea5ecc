// Slack delivers one message as a `message` and an `app_mention` event, and retries events it
// thinks were lost, also after Shipbot restarted. This remembers what was handled (by channel +
// message ts) for a while: in the database when there is one, so a redelivery after a restart
// is not answered twice, otherwise in memory.

/** Where handled keys are kept across restarts (the store's `firstSeen`). */
export interface SeenStore {
  firstSeen(key: string, now: number, ttlMs: number): boolean;
}

export class SeenSet {
  private seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 10_000,
    private readonly durable?: SeenStore,
  ) {}

  /** True the first time `key` is offered within the TTL; false for repeats. */
  firstTime(key: string, now = Date.now()): boolean {
    if (this.durable) return this.durable.firstSeen(key, now, this.ttlMs);
    const at = this.seen.get(key);
    if (at !== undefined && now - at < this.ttlMs) return false;
    this.seen.set(key, now);
    if (this.seen.size > this.max) {
      for (const [k, t] of this.seen) {
        if (now - t >= this.ttlMs || this.seen.size > this.max) this.seen.delete(k);
        else break;
      }
    }
    return true;
  }
}
