// Slack delivers one message as a `message` and an `app_mention` event, and retries events it
// thinks were lost, also after Shipbot restarted. This remembers what was handled (by channel +
// message ts) for a while: in the database when there is one, so a redelivery after a restart
// is not answered twice, otherwise in memory.

/** Where handled keys are kept across restarts (the store's `firstSeen`). */
export interface SeenStore {
  firstSeen(key: string, now: number, ttlMs: number): Promise<boolean>;
}

export class SeenSet {
  private seen = new Map<string, number>();

  constructor(
    private readonly ttlMs = 10 * 60_000,
    private readonly max = 10_000,
    private readonly durable?: SeenStore,
  ) {}

  /** True the first time `key` is offered within the TTL; false for repeats. */
  async firstTime(key: string, now = Date.now()): Promise<boolean> {
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

/** The id Slack gives each slash command and interaction: a replay of the same request carries it again. */
export function requestId(body: unknown): string | undefined {
  const b = body as { trigger_id?: unknown; type?: unknown; command?: unknown };
  if (typeof b?.trigger_id !== 'string' || !b.trigger_id) return undefined;
  const kind = typeof b.command === 'string' ? 'command' : String(b.type ?? 'interaction');
  return `${kind}:${b.trigger_id}`;
}

/**
 * Global Bolt middleware: a slash command or interaction whose id was already handled (a replay
 * within the signature's time window, also after a restart) is acknowledged and goes no further.
 */
export function actOnce(ctx: { seen: SeenSet; logger: { info(o: object, m: string): void } }) {
  return async (args: { body: unknown; ack?: (...a: never[]) => Promise<void>; next: () => Promise<void> }): Promise<void> => {
    const id = requestId(args.body);
    if (id && !(await ctx.seen.firstTime(id))) {
      ctx.logger.info({ id }, 'a Slack request that was already handled arrived again; acknowledged, not acted on');
      await args.ack?.();
      return;
    }
    await args.next();
  };
}
