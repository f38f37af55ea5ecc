// The runner's record keeping: every change to a run is saved to the store, then told to the
// listeners (front ends); audit entries likewise. A listener that throws never stops a deploy.
// Writes go to the store one after another in the order they were asked for, so a run's later
// state never lands before an earlier one, whatever the engine's latency.
import type { Clock } from '../clock.js';
import type { RunEvent } from '../domain/run.js';
import type { Logger } from '../log.js';
import type { RunRecord } from '../store/records.js';
import { FencedError, type Store } from '../store/run-store.js';
import { isStoreBusy } from '../store/store.js';
import { safe } from './async.js';
import { toView } from './view.js';

/** The database stayed unwritable: the run is held where it was last saved. */
export class StoreFailed extends Error {}

export class Journal {
  private readonly listeners = new Set<(ev: RunEvent) => void>();
  private tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Runs `fn` after every write asked for before it. A failure is the caller's; the queue goes on. */
  write<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    const done = this.tail.then(() => fn(this.store));
    this.tail = done.catch(() => undefined);
    return done;
  }

  /** Resolves once every write asked for so far has landed (or failed). */
  drained(): Promise<unknown> {
    return this.tail;
  }

  subscribe(listener: (ev: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  clear(): void {
    this.listeners.clear();
  }

  /**
   * Saves the run; listeners hear of it once it is saved. `quiet`: a fact added after the end
   * (the stakeholder summary) is saved without telling listeners the run ended again.
   */
  async save(rec: RunRecord, important: boolean, quiet = false): Promise<void> {
    rec.updatedAt = this.clock.now();
    const snapshot = structuredClone(rec);
    await this.write((s) => s.saveRun(snapshot));
    if (!quiet) this.emit(snapshot, important);
  }

  /**
   * Records an audit entry. `fenced`: it tells of the leader's own work on a run (a step, a
   * command it carried out), refused once its term has ended, like the run's state. Never throws:
   * a lost entry is logged, and the deploy goes on.
   */
  async audit(runId: string | undefined, actor: string, action: string, detail: string, fenced = false): Promise<void> {
    const at = this.clock.now();
    try {
      await this.write((s) => s.audit({ ...(runId ? { runId } : {}), at, actor, action, detail }, fenced));
    } catch (err) {
      if (err instanceof FencedError) this.log.warn({ runId, action }, 'an audit entry refused: this replica no longer leads');
      else this.log.error({ err, runId, action }, 'an audit entry could not be written');
      return;
    }
    this.emitAudit(runId ?? '', actor, action, detail, at);
  }

  emit(rec: RunRecord, important: boolean): void {
    if (!this.listeners.size) return;
    const run = toView(rec);
    for (const l of this.listeners) safe(() => l({ type: 'run-updated', run, important }));
  }

  emitAudit(runId: string, actor: string, action: string, detail: string, at = this.clock.now()): void {
    for (const l of this.listeners) safe(() => l({ type: 'audit', runId, actor, action, detail, at }));
  }

  /**
   * A write lock held by someone else (a backup, an admin's sqlite3 shell): no cluster change
   * happens until this run's record is saved again, retried with backoff (real time: the lock
   * holder lives in real time). Steps are "ensure" operations, so the one interrupted runs again.
   */
  async waitForStore(rec: RunRecord, opts: { budgetMs: number; log: Logger; closed: () => boolean }): Promise<void> {
    let wait = 500;
    const giveUpAt = Date.now() + opts.budgetMs;
    for (let attempt = 1; !opts.closed(); attempt++) {
      if (Date.now() >= giveUpAt) {
        // Held for good: this run makes no further change; the database keeps its last saved state.
        const message = `the database could not be written for ${Math.round(opts.budgetMs / 1000)} s (another writer holds it, or the disk is full): run ${rec.id} is held where it was last saved, with no further cluster change; fix the database, then restart Shipbot to resume it`;
        opts.log.error({ runId: rec.id }, message);
        for (const l of this.listeners) safe(() => l({ type: 'store-failed', runId: rec.id, message }));
        throw new StoreFailed('store failed');
      }
      opts.log.warn(
        { attempt, retryInMs: wait },
        'the database is locked by another writer; holding this run (no cluster change) until it is free',
      );
      await new Promise((r) => setTimeout(r, wait));
      try {
        await this.save(rec, false);
        return;
      } catch (err) {
        if (!isStoreBusy(err)) throw err;
        wait = Math.min(10_000, wait * 2);
      }
    }
  }
}
