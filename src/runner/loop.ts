// The step loop: each run is driven step by step, every change saved before the cluster is
// touched; a step's outcome decides what comes next (the next step, a rollback, a question for a
// person, the end). Rollbacks, the final report and the lock it leaves, and the queue behind a
// lock are settled here. The Runner (runner.ts) is the front ends' door to it.
import path from 'node:path';
import type { Clock } from '../clock.js';
import { findService, type ServiceConfig, type ShipbotConfig } from '../config.js';
import type { RolloutDriver, RolloutState, WorkloadRef } from '../cluster/types.js';
import { labelName, truncate } from '../domain/text.js';
import type { Environment, Strategy } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Summarise } from '../reports/report.js';
import { writeRunReports } from '../reports/write.js';
import type { Store } from '../store/store.js';
import { actorLabel, type LineStop, type RunRecord } from '../store/records.js';
import { needsApproval } from '../domain/permissions.js';
import { decisionTarget } from './diagnostics.js';
import { type Journal, StoreFailed } from './journal.js';
import type { RunAnalysis } from './analysis.js';
import type { GitopsActions } from '../gitops/actions.js';
import { applyChange } from './run-change.js';
import { executeStep, type StepOutcome } from './execute.js';
import { rollbackNeedsPerson, type Migrate } from './migration-step.js';
import { nextStep, productionTouched, setStep, skipRemaining, STEP, touching, withRollbackSteps } from './steps.js';
import { deferred, defaultRef, isStoreBusy, raceAbort, toView } from './view.js';
import { FINAL_STATUSES, type Diagnostics, type RunStatus } from '../domain/run.js';

export interface RunnerDeps {
  store: Store;
  config: ShipbotConfig;
  clock: Clock;
  /** The driver of a strategy in one cluster (kubeconfig context; undefined: the default). */
  drivers: (strategy: Strategy, context?: string) => RolloutDriver;
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
}

export class StepLoop {
  readonly active = new Map<string, Active>();
  /** Pod reads started at a decision, per run: `finish` waits for them so the record it saves has them. */
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

  /**
   * Reads the pods where the decision was made while they still exist (a rollback removes the
   * canary's), alongside the rollback rather than before it: reverting traffic is not delayed.
   */
  rememberPodsAtDecision(rec: RunRecord): void {
    const service = findService(this.deps.config, rec.service);
    if (!this.deps.diagnose || !service || rec.data.atDecision) return;
    const { environment, state } = decisionTarget(rec);
    const ref = this.ref(service, environment);
    if (!ref || !state) return;
    const at = this.deps.clock.now();
    const read = this.deps.diagnose(ref, state).then(
      (d) => {
        rec.data.atDecision ??= { at, environment, ...d };
        // A finishing run saves it with its final record; saving here would show a final status early.
        if (!this.closed && !FINAL_STATUSES.has(rec.status)) this.journal.save(rec, false);
      },
      (err: unknown) => this.deps.logger.warn({ err, runId: rec.id }, 'reading the pods at the decision failed'),
    );
    this.podReads.set(
      rec.id,
      read.finally(() => this.podReads.delete(rec.id)),
    );
  }

  attach(rec: RunRecord): void {
    if (FINAL_STATUSES.has(rec.status) || this.closed) return;
    const a: Active = { rec, abort: new AbortController(), skip: deferred() };
    this.active.set(rec.id, a);
    a.loop = this.drive(a).finally(() => {
      if (this.active.get(rec.id) === a && FINAL_STATUSES.has(a.rec.status)) this.active.delete(rec.id);
    });
  }

  wake(runId: string): void {
    const a = this.active.get(runId);
    if (a) {
      a.wake?.();
      return;
    }
    const rec = this.deps.store.getRun(runId);
    if (rec && !FINAL_STATUSES.has(rec.status)) this.attach(rec);
  }

  private async drive(a: Active): Promise<void> {
    const log = this.deps.logger.child({ runId: a.rec.id });
    try {
      while (!this.closed) {
        const rec = a.rec;
        if (FINAL_STATUSES.has(rec.status)) return;
        if (WAITING.has(rec.status)) {
          await new Promise<void>((resolve) => (a.wake = resolve));
          a.wake = undefined;
          continue;
        }
        // Between steps is the safe point: with the line stopped, no further step moves traffic.
        const stop = rec.status === 'running' ? this.deps.store.lineStop() : undefined;
        if (stop && rec.data.lineStopWaived !== stop.at) {
          this.holdForLineStop(rec, stop);
          continue;
        }
        const step = nextStep(rec.steps);
        if (!step) {
          await this.finish(rec, 'failed', 'the run had no step left to execute; this is a Shipbot bug, please report it');
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
      if (!FINAL_STATUSES.has(a.rec.status)) {
        await this.finish(
          a.rec,
          'failed',
          `Shipbot hit an internal error: ${(err as Error).message}. Check ${a.rec.service} in ${a.rec.environment}, then unlock it.`,
        ).catch(() => {});
      }
    }
  }

  private async runStep(a: Active, key: string, log: Logger): Promise<void> {
    const { clock, config } = this.deps;
    const rec = a.rec;
    const now = clock.now();
    const cur = rec.steps.find((s) => s.key === key)!;
    rec.steps = setStep(rec.steps, key, { status: 'running', startedAt: cur.startedAt ?? now });
    rec.targets = touching(rec.targets, key, now);
    this.journal.save(rec, false);
    if (a.abort.signal.aborted) a.abort = new AbortController();
    if (a.abandoned) {
      // Already aborted: this only lets a patch that was on the wire land, so the rollback
      // step's "ensure" sees the final state. Monitoring and analysis stopped at the abort.
      await a.abandoned;
      a.abandoned = undefined;
    }
    a.skip = deferred();
    const signal = a.abort.signal;
    const service = findService(config, rec.service)!;
    const statusAtStart = rec.status;
    let outcome: StepOutcome;
    let handler: Promise<StepOutcome> | undefined;
    try {
      handler = executeStep(key, {
        run: rec,
        config,
        service,
        ref: this.ref(service, rec.environment)!,
        ...(rec.environment === 'production' && service.environments.staging ? { stagingRef: this.ref(service, 'staging')! } : {}),
        driver: this.deps.drivers(rec.strategy, this.ref(service, rec.environment)!.context),
        drivers: this.deps.drivers,
        analysis: this.deps.analysis,
        store: this.deps.store,
        clock,
        signal,
        skip: a.skip.promise,
        commit: (change) => {
          // An abandoned handler (a command took over the run) still records what the cluster
          // was told, for the steps after it, but the command's transition does the saving.
          applyChange(rec, change);
          if (!signal.aborted) this.journal.save(rec, false);
        },
        progress: (line) => {
          if (signal.aborted) return;
          rec.steps = setStep(rec.steps, key, { detail: line });
          this.journal.emit(rec, false);
        },
        writeIncident: () => this.writeIncident(rec),
        migrate: this.deps.migrate ?? (() => Promise.reject(new Error('this Shipbot was built without a way to run migration Jobs'))),
        ...(this.deps.gitops ? { gitops: this.deps.gitops } : {}),
      });
      outcome = await raceAbort(handler, signal);
    } catch (err) {
      if (this.closed) throw new Closed('closed');
      // A command (rollback, cancel) abandoned this step; its transition already rewrote the run.
      if (signal.aborted) {
        a.abandoned = handler?.catch(() => undefined);
        return;
      }
      // The database was busy: not the step's fault. The loop waits and runs the step again.
      if (isStoreBusy(err)) throw err;
      log.warn({ err, step: key }, 'step failed');
      outcome = this.failureOutcome(rec, key, err);
    }
    if (this.closed) throw new Closed('closed');
    if (signal.aborted) return;
    rec.steps = setStep(rec.steps, key, {
      status: outcome.status,
      ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}),
      endedAt: clock.now(),
    });
    const next = outcome.next;
    if (!next) {
      this.journal.save(rec, outcome.status === 'failed');
      return;
    }
    switch (next.kind) {
      case 'rollback': {
        // A migration the previous version cannot run on: a person decides, with the reason.
        const held = rollbackNeedsPerson(rec, next.reason);
        if (held) {
          this.rememberPodsAtDecision(rec);
          rec.pendingDecision = held;
          this.transition(rec, 'awaiting-decision', { stage: `decision needed: ${held.explanation}` }, true);
          return;
        }
        this.beginRollback(rec, next.reason, 'shipbot', true);
        return;
      }
      case 'fail':
        rec.steps = skipRemaining(rec.steps, 'not run: an earlier step failed');
        await this.finish(rec, 'failed', next.reason);
        return;
      case 'ask':
        this.rememberPodsAtDecision(rec);
        rec.pendingDecision = next.decision;
        this.transition(
          rec,
          statusAtStart === 'rolling-back' ? 'rolling-back' : 'awaiting-decision',
          { stage: `decision needed: ${next.decision.explanation}` },
          true,
        );
        return;
      case 'finish': {
        const rb = rec.data.rollback;
        if (rb) {
          const verified = rb.verification?.ok !== false;
          await this.finish(
            rec,
            verified ? 'rolled-back' : 'failed',
            verified
              ? rb.reason
              : `rollback could not be verified (${rb.verification?.detail}); check ${rec.service} in ${rec.environment} by hand`,
          );
        } else {
          await this.finish(rec, 'succeeded', `${rec.version} is live in ${rec.environment}`);
        }
        return;
      }
    }
  }

  /** An unexpected error in a step: roll back when production may have changed, else fail. */
  private failureOutcome(rec: RunRecord, key: string, err: unknown): StepOutcome {
    const msg = err instanceof Error ? err.message : String(err);
    if (rec.status === 'rolling-back') {
      return { status: 'failed', detail: msg };
    }
    if (productionTouched(rec) || key === STEP.stagingDeploy || key === STEP.stagingGate) {
      return { status: 'failed', detail: msg, next: { kind: 'rollback', reason: `step failed: ${msg}` } };
    }
    return { status: 'failed', detail: msg, next: { kind: 'fail', reason: msg } };
  }

  beginRollback(rec: RunRecord, reason: string, by: string, automatic: boolean): void {
    if (rec.data.rollback) return;
    this.rememberPodsAtDecision(rec);
    rec.data.rollback = { reason, by, at: this.deps.clock.now(), automatic };
    rec.steps = withRollbackSteps(rec.steps, reason);
    delete rec.pendingDecision;
    this.transition(rec, 'rolling-back', { stage: `rolling back: ${reason}` }, true);
    // Revert traffic first: whatever the current step waits on (monitoring, analysis) is abandoned.
    this.active.get(rec.id)?.abort.abort(new Error('rollback'));
    if (automatic) this.journal.audit(rec.id, 'shipbot', 'automatic-rollback', reason);
  }

  transition(rec: RunRecord, status: RunStatus, patch: Partial<RunRecord>, important: boolean): void {
    Object.assign(rec, patch);
    rec.status = status;
    this.journal.save(rec, important);
  }

  /** Writes the reports, settles the lock and records the final status in one transaction. */
  async finish(rec: RunRecord, status: RunStatus, outcome: string): Promise<void> {
    const { store, clock, logger } = this.deps;
    const read = this.podReads.get(rec.id);
    // Bounded: a cluster that stopped answering must not keep the run from finishing.
    if (read) await Promise.race([read, new Promise((r) => setTimeout(r, 10_000).unref())]);
    rec.status = status;
    rec.outcome = outcome;
    delete rec.pendingDecision;
    const now = clock.now();
    // The report shows itself as written; if writing fails the step becomes a warning below.
    rec.steps = setStep(rec.steps, STEP.report, { status: 'done', startedAt: now, endedAt: now, detail: `${rec.id}.md` });
    let reportDetail = '';
    try {
      const files = await writeRunReports(toView(rec), rec, store.auditTrail(rec.id), this.deps.reportsDir, this.deps.summarise);
      rec.reportPath = files.report;
      if (files.incident) rec.data.incidentPath = files.incident;
      rec.data.summary = files.summary;
      reportDetail = path.basename(files.report);
    } catch (err) {
      logger.error({ err, runId: rec.id }, 'writing the report failed');
      reportDetail = `report not written: ${(err as Error).message}`;
    }
    rec.steps = setStep(rec.steps, STEP.report, {
      status: rec.reportPath ? 'done' : 'warning',
      detail: reportDetail,
      endedAt: clock.now(),
    });
    // Only a run that touched production keeps the service locked (Shipit's auto-lock): a
    // release stopped at staging leaves production deployable.
    const keepLock =
      productionTouched(rec) &&
      (status === 'stopped' || status === 'failed' || (status === 'rolled-back' && !!rec.data.rollback?.automatic));
    store.tx(() => {
      const lock = store.getLock(rec.service, rec.environment);
      if (lock?.runId === rec.id) {
        if (keepLock) {
          const what = status === 'rolled-back' ? 'an automatic rollback' : status === 'stopped' ? 'a safe stop' : 'a failed deploy';
          rec.data.keptLock = `${what} (run ${rec.id}: ${truncate(outcome, 120)})`;
          store.updateLock(rec.service, rec.environment, { kind: 'held', reason: rec.data.keptLock });
        } else {
          store.releaseLock(rec.service, rec.environment);
        }
      }
      this.journal.save(rec, true);
      store.audit({ runId: rec.id, at: now, actor: 'shipbot', action: status, detail: outcome });
    });
    this.journal.emitAudit(rec.id, 'shipbot', status, outcome);
    if (!keepLock) this.startNextQueued(rec.service, rec.environment);
  }

  /** Pauses a running run for "stop all deploys", saying who stopped it and why. */
  holdForLineStop(rec: RunRecord, stop: LineStop): void {
    rec.data.lineStop = stop;
    this.transition(rec, 'paused', { stage: `all deploys stopped by ${labelName(stop.by)}: ${stop.reason}` }, true);
    this.journal.audit(rec.id, 'shipbot', 'line-stopped', `held at a safe point: ${stop.reason}`);
  }

  startNextQueued(service: string, environment: string): void {
    const { store, config, clock } = this.deps;
    const next = store.nextQueued(service, environment);
    if (!next || this.closed) return;
    const rec = this.active.get(next.id)?.rec ?? next;
    const got = store.acquireLock({
      service,
      environment,
      holder: actorLabel(rec.requester),
      runId: rec.id,
      since: clock.now(),
      reason: `deploying ${rec.version}`,
      kind: 'run',
    });
    if (!got.ok) return;
    const approval = needsApproval(rec.plan, config) && !rec.data.approvals?.length;
    this.transition(
      rec,
      approval ? 'pending-approval' : 'running',
      { stage: approval ? 'waiting for an approval' : 'lock acquired' },
      true,
    );
    this.journal.audit(rec.id, 'shipbot', 'dequeued', 'the lock was free');
    this.wake(rec.id);
  }

  private async writeIncident(rec: RunRecord): Promise<string | undefined> {
    // The incident file is written with the final report (reports/write.ts), when the rollback's
    // verification is known; here the incident enters the audit trail.
    if (!rec.data.rollback) return undefined;
    this.journal.audit(rec.id, 'shipbot', 'incident', rec.data.rollback.reason);
    return `${rec.id}-incident.md`;
  }

  ref(service: ServiceConfig, env: Environment): WorkloadRef | undefined {
    return (this.deps.resolveRef ?? defaultRef)(service, env);
  }
}
