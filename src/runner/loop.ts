// The step loop: each run is driven step by step. A handler runs; what happens (the step started,
// learned a fact, ended, a person's command) goes to the reducer (model/reduce.ts) as an event;
// the new run is saved before any effect it asks for (abandon the step, read the pods, end the
// run) is performed. The loop writes no status itself. The end (reports, the lock it leaves) and
// the queue behind a lock are performed here. The Runner (runner.ts) is the front ends' door.
import path from 'node:path';
import type { Clock } from '../clock.js';
import { findService, type ServiceConfig, type ShipbotConfig } from '../config.js';
import type { DriverTarget, RolloutDriver, RolloutState, WorkloadRef } from '../cluster/types.js';
import type { Environment, Strategy } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Summarise } from '../reports/report.js';
import { wallTime } from '../clock.js';
import { writeRunReports, writeSummary } from '../reports/write.js';
import { isStoreBusy } from '../store/store.js';
import type { Store } from '../store/run-store.js';
import { actorLabel, type LineStop, type RunRecord } from '../store/records.js';
import { needsApproval } from '../domain/permissions.js';
import { decisionTarget } from './diagnostics.js';
import { type Journal, StoreFailed } from './journal.js';
import type { RunAnalysis } from './analysis.js';
import type { GitopsActions } from '../gitops/actions.js';
import { type Effect, type ModelEvent, reduce } from './model/reduce.js';
import { keptLock } from './model/next-move.js';
import { executeStep } from './handlers/execute.js';
import type { Migrate } from './handlers/migration-step.js';
import { nextStep } from './model/steps.js';
import { deferred, raceAbort } from './async.js';
import { defaultRef, toView } from './view.js';
import { type Diagnostics, type EndStatus, FINAL_STATUSES, isEnded, reportOf, type RunStatus } from '../domain/run.js';

export interface RunnerDeps {
  store: Store;
  config: ShipbotConfig;
  clock: Clock;
  /** The driver of a strategy for a workload (its kubeconfig context, undefined: the default; a Deployment or a Rollout). */
  drivers: (strategy: Strategy, at?: DriverTarget) => RolloutDriver;
  analysis: RunAnalysis;
  logger: Logger;
  /** Where `<runId>.md` reports go, e.g. `<dataDir>/reports`. */
  reportsDir: string;
  /** Where a service lives in an environment; defaults to the catalogue in `config`. */
  resolveRef?: (service: ServiceConfig, environment: Environment) => WorkloadRef | undefined;
  /** Runs a release's migration Job (cluster/migration.ts); runs with a migration fail without it. */
  migrate?: Migrate;
  /** Pauses and resumes reconcilers and commits releases to Git (gitops/actions.ts). */
  gitops?: GitopsActions;
  /** Raw facts for Investigate (pods, events, log tail) from the cluster. */
  diagnose?: (ref: WorkloadRef, state: RolloutState) => Promise<Pick<Diagnostics, 'pods' | 'events' | 'logTail'>>;
  /** Optional LLM-written lessons / summaries for reports; deterministic text otherwise. */
  summarise?: Summarise;
  newId?: () => string;
  /** How long (real ms) a busy database is waited out before the run is held and `store-failed` is emitted (default 10 min). */
  storeRetryMs?: number;
  /** With replicas: whether this one drives runs (it leads). A standby records and reads runs; it drives none. */
  acting?: () => boolean;
}

/** Statuses in which the run waits for a person or the lock, with nothing to execute. */
export const WAITING: ReadonlySet<RunStatus> = new Set(['pending-approval', 'queued', 'awaiting-decision', 'paused']);

export class Closed extends Error {}

interface Active {
  rec: RunRecord;
  abort: AbortController;
  wake?: () => void;
  skip: { promise: Promise<void>; resolve: () => void };
  loop?: Promise<void>;
  /** The handler of a step a command abandoned: its in-flight cluster call must land before we revert. */
  abandoned?: Promise<unknown>;
  /** An event ended the run (a cancel, say): its end, under way; the loop runs no further step and waits for it. */
  ending?: Promise<unknown>;
}

export class StepLoop {
  readonly active = new Map<string, Active>();
  /** Pod reads started at a decision, per run: the end waits for them so the record it saves has them. */
  private readonly podReads = new Map<string, Promise<void>>();
  closed = false;

  constructor(
    private readonly deps: RunnerDeps,
    private readonly journal: Journal,
  ) {}

  async close(): Promise<void> {
    this.closed = true;
    const loops: Promise<void>[] = [];
    for (const a of this.active.values()) {
      a.abort.abort(new Closed('runner closed'));
      a.wake?.();
      if (a.loop) loops.push(a.loop);
    }
    await Promise.allSettled(loops);
    // A step a command abandoned may still have a cluster call on the wire; let it land now, so
    // it cannot undo what the next process (resuming the rollback) does.
    await Promise.allSettled([...this.active.values()].map((a) => a.abandoned).filter(Boolean));
    this.active.clear();
  }

  /** The run as it is now: the live record of a run being driven, else the stored one. */
  async live(runId: string): Promise<RunRecord | undefined> {
    return this.active.get(runId)?.rec ?? (await this.deps.store.getRun(runId));
  }

  /**
   * Applies one event: the reducer's new run replaces the live record at once (a second
   * identical command sees the new state), and is saved (`save: false`: the caller saves it,
   * e.g. with the lock in one write); its effects are performed once it is saved, never before.
   * `settled` resolves once they are done (the end of the run takes time), and rejects when the
   * save failed; a caller that does not wait for it loses nothing but the error, which is logged.
   */
  dispatch(rec: RunRecord, ev: ModelEvent, opts: { save?: boolean } = {}): { run: RunRecord; settled: Promise<void> } {
    const a = this.active.get(rec.id);
    const { run, effects, important } = reduce(a?.rec ?? rec, ev);
    if (a) a.rec = run;
    let saved: Promise<void> = Promise.resolve();
    if (ev.type === 'progress') this.journal.emit(run, false);
    else if (opts.save !== false) saved = this.journal.save(run, important, ev.type === 'summary-written');
    const settled = saved.then(() => this.perform(run, effects));
    settled.catch((err: unknown) => this.deps.logger.debug({ err, runId: run.id, event: ev.type }, 'an event was not saved'));
    if (a && effects.some((e) => e.kind === 'end')) a.ending = settled.catch(() => undefined);
    return { run, settled };
  }

  private perform(run: RunRecord, effects: Effect[]): Promise<void> {
    let settled = Promise.resolve();
    const a = this.active.get(run.id);
    for (const e of effects) {
      switch (e.kind) {
        case 'abort-step':
          // Revert traffic first: whatever the current step waits on (monitoring, analysis) is abandoned.
          a?.abort.abort(new Error('taken over by a command or a rollback'));
          break;
        case 'read-pods':
          this.rememberPodsAtDecision(run);
          break;
        case 'skip-window':
          a?.skip.resolve();
          break;
        case 'audit':
          void this.journal.audit(run.id, e.actor, e.action, e.detail, true);
          break;
        case 'end':
          settled = this.end(run.id, e.status, e.outcome);
          break;
      }
    }
    return settled;
  }

  /**
   * Reads the pods where the decision was made while they still exist (a rollback removes the
   * canary's), alongside the rollback rather than before it: reverting traffic is not delayed.
   */
  private rememberPodsAtDecision(rec: RunRecord): void {
    const service = findService(this.deps.config, rec.service);
    if (!this.deps.diagnose || !service || rec.data.atDecision || this.podReads.has(rec.id)) return;
    const { environment, state } = decisionTarget(rec);
    const ref = this.ref(service, environment);
    if (!ref || !state) return;
    const at = this.deps.clock.now();
    const read = this.deps.diagnose(ref, state).then(
      async (d) => {
        const live = await this.live(rec.id);
        // An ending run saves it with its final record; saving here would show a final status early.
        if (live)
          this.dispatch(live, { type: 'pods-read', atDecision: { at, environment, ...d } }, { save: !this.closed && !isEnded(live.phase) });
      },
      (err: unknown) => this.deps.logger.warn({ err, runId: rec.id }, 'reading the pods at the decision failed'),
    );
    this.podReads.set(
      rec.id,
      read.finally(() => this.podReads.delete(rec.id)),
    );
  }

  attach(rec: RunRecord): void {
    if (FINAL_STATUSES.has(rec.phase.status) || this.closed || this.deps.acting?.() === false) return;
    const a: Active = { rec, abort: new AbortController(), skip: deferred() };
    this.active.set(rec.id, a);
    a.loop = this.drive(a).finally(() => {
      if (this.active.get(rec.id) === a && FINAL_STATUSES.has(a.rec.phase.status)) this.active.delete(rec.id);
    });
  }

  async wake(runId: string): Promise<void> {
    const a = this.active.get(runId);
    if (a) {
      a.wake?.();
      return;
    }
    const rec = await this.deps.store.getRun(runId);
    if (rec && !FINAL_STATUSES.has(rec.phase.status) && !this.active.has(runId)) this.attach(rec);
  }

  private async drive(a: Active): Promise<void> {
    const log = this.deps.logger.child({ runId: a.rec.id });
    try {
      while (!this.closed) {
        const rec = a.rec;
        if (a.ending) await a.ending;
        if (FINAL_STATUSES.has(a.rec.phase.status) || a.ending) return;
        if (WAITING.has(rec.phase.status)) {
          await new Promise<void>((resolve) => (a.wake = resolve));
          a.wake = undefined;
          continue;
        }
        // Between steps is the safe point: with the line stopped, no further step moves traffic.
        const stop = rec.phase.status === 'running' ? await this.deps.store.lineStop() : undefined;
        if (stop && a.rec === rec && rec.data.lineStopWaived !== stop.at) {
          await this.holdForLineStop(rec, stop);
          continue;
        }
        if (a.rec !== rec) continue; // a command changed the run while the stop was read
        const step = nextStep(rec.steps);
        if (!step) {
          await this.end(rec.id, 'failed', 'the run had no step left to execute; this is a Shipbot bug, please report it');
          return;
        }
        try {
          await this.runStep(a, step.key, log);
        } catch (err) {
          if (!isStoreBusy(err) || this.closed) throw err;
          await this.journal.waitForStore(a.rec, { budgetMs: this.deps.storeRetryMs ?? 600_000, log, closed: () => this.closed });
        }
      }
    } catch (err) {
      if (this.closed || err instanceof Closed || err instanceof StoreFailed) return;
      log.error({ err }, 'run loop failed');
      if (!FINAL_STATUSES.has(a.rec.phase.status)) {
        await this.end(
          a.rec.id,
          'failed',
          `Shipbot hit an internal error: ${(err as Error).message}. Check ${a.rec.service} in ${a.rec.environment}, then unlock it.`,
        ).catch(() => {});
      }
    }
  }

  private async runStep(a: Active, key: string, log: Logger): Promise<void> {
    const { clock, config } = this.deps;
    // A fresh controller before anything waits: a command arriving while the start is saved aborts it.
    if (a.abort.signal.aborted) a.abort = new AbortController();
    const signal = a.abort.signal;
    await this.dispatch(a.rec, { type: 'step-started', key, at: clock.now() }).settled;
    // Taken over meanwhile (a rollback, a cancel): the loop looks again at what the run is now.
    if (signal.aborted || a.ending || a.rec.steps.find((s) => s.key === key)?.status !== 'running') return;
    if (a.abandoned) {
      // Already aborted: this only lets a patch that was on the wire land, so the rollback
      // step's "ensure" sees the final state. Monitoring and analysis stopped at the abort.
      await a.abandoned;
      a.abandoned = undefined;
    }
    a.skip = deferred();
    const rec = a.rec;
    const service = findService(config, rec.service)!;
    const ref = this.ref(service, rec.environment)!;
    let ended: ModelEvent;
    let handler: Promise<unknown> | undefined;
    try {
      const running = executeStep(key, {
        get run() {
          return a.rec;
        },
        config,
        service,
        ref,
        ...(rec.environment === 'production' && service.environments.staging ? { stagingRef: this.ref(service, 'staging')! } : {}),
        driver: this.deps.drivers(rec.strategy, ref),
        drivers: this.deps.drivers,
        analysis: this.deps.analysis,
        store: this.deps.store,
        clock,
        signal,
        skip: a.skip.promise,
        // An abandoned handler (a command took over the run) still records what the cluster
        // was told, for the steps after it, but the command's own event did the saving.
        commit: (change) => this.dispatch(a.rec, { type: 'learned', change }, { save: !signal.aborted }).settled,
        progress: (line) => {
          if (!signal.aborted) this.dispatch(a.rec, { type: 'progress', key, line });
        },
        audit: (action, detail) => void this.journal.audit(rec.id, 'shipbot', action, detail, true),
        migrate: this.deps.migrate ?? (() => Promise.reject(new Error('this Shipbot was built without a way to run migration Jobs'))),
        ...(this.deps.gitops ? { gitops: this.deps.gitops } : {}),
      });
      handler = running;
      ended = { type: 'step-ended', key, outcome: await raceAbort(running, signal), at: clock.now() };
    } catch (err) {
      if (this.closed) throw new Closed('closed');
      // A command (rollback, cancel) abandoned this step; its event already rewrote the run.
      if (signal.aborted) {
        a.abandoned = handler?.catch(() => undefined);
        return;
      }
      // The database was busy: not the step's fault. The loop waits and runs the step again.
      if (isStoreBusy(err)) throw err;
      log.warn({ err, step: key }, 'step failed');
      ended = { type: 'step-threw', key, message: err instanceof Error ? err.message : String(err), at: clock.now() };
    }
    if (this.closed) throw new Closed('closed');
    if (signal.aborted) return;
    await this.dispatch(a.rec, ended).settled;
  }

  /** Writes the reports, settles the lock and saves the ended run in one transaction. */
  private async end(runId: string, status: EndStatus, outcome: string): Promise<void> {
    const { store, clock, logger } = this.deps;
    const read = this.podReads.get(runId);
    // Bounded: a cluster that stopped answering must not keep the run from finishing.
    if (read) await Promise.race([read, new Promise((r) => setTimeout(r, 10_000).unref())]);
    const rec = (await this.live(runId))!;
    const kept = keptLock(rec, status, outcome);
    let run = this.dispatch(
      rec,
      { type: 'ended', status, outcome, at: clock.now(), ...(kept ? { keptLock: kept } : {}) },
      { save: false },
    ).run;
    try {
      // Times in the report as people lived them (the demo clock runs faster than the wall's).
      const lived = { wall: (m: number) => wallTime(clock, m), speed: clock.speed };
      await this.journal.drained(); // the trail the report shows is the whole trail
      const files = await writeRunReports(toView(run), run, await store.auditTrail(run.id), this.deps.reportsDir, this.deps.summarise, {
        clock: lived,
        queries: this.deps.analysis.queriesFor?.(run.service),
      });
      const report = { path: files.report, ...(files.incident ? { incident: files.incident } : {}) };
      run = this.dispatch(
        run,
        { type: 'reports-written', at: clock.now(), report, detail: path.basename(files.report) },
        { save: false },
      ).run;
    } catch (err) {
      logger.error({ err, runId }, 'writing the report failed');
      const detail = `report not written: ${(err as Error).message}`;
      run = this.dispatch(run, { type: 'reports-written', at: clock.now(), detail }, { save: false }).run;
    }
    run.updatedAt = clock.now();
    const ended = structuredClone(run);
    await this.journal.write((s) =>
      s.endRun(ended, kept, { runId: run.id, at: run.updatedAt, actor: 'shipbot', action: status, detail: outcome }),
    );
    this.journal.emit(ended, true);
    this.journal.emitAudit(run.id, 'shipbot', status, outcome);
    if (!kept) await this.startNextQueued(run.service, run.environment);
    // Off the critical path: Claude may take seconds, and the next deploy need not wait for prose.
    if (reportOf(run)) void this.writeStakeholderSummary(run);
  }

  /** The stakeholder summary of an ended run, kept with its reports. A failure leaves the run as it ended. */
  private async writeStakeholderSummary(run: RunRecord): Promise<void> {
    try {
      const summary = await writeSummary(run, this.deps.summarise);
      if (!this.closed) await this.dispatch((await this.live(run.id)) ?? run, { type: 'summary-written', summary }).settled;
    } catch (err) {
      this.deps.logger.warn({ err, runId: run.id }, 'writing the stakeholder summary failed');
    }
  }

  /** Pauses a running run for "stop all deploys", saying who stopped it and why. */
  holdForLineStop(rec: RunRecord, stop: LineStop): Promise<void> {
    return this.dispatch(rec, { type: 'line-stopped', stop }).settled;
  }

  async startNextQueued(service: string, environment: string): Promise<void> {
    const { store, config, clock } = this.deps;
    const next = await store.nextQueued(service, environment);
    if (!next || this.closed) return;
    const rec = this.active.get(next.id)?.rec ?? next;
    const got = await store.acquireLock({
      service,
      environment,
      holder: actorLabel(rec.requester),
      runId: rec.id,
      since: clock.now(),
      reason: `deploying ${rec.version}`,
      kind: 'run',
    });
    if (!got.ok) return;
    await this.dispatch(this.active.get(rec.id)?.rec ?? rec, {
      type: 'lock-granted',
      needsApproval: needsApproval(rec.plan, config) && !rec.data.approvals?.length,
    }).settled;
    await this.wake(rec.id);
  }

  ref(service: ServiceConfig, env: Environment): WorkloadRef | undefined {
    return (this.deps.resolveRef ?? defaultRef)(service, env);
  }
}
