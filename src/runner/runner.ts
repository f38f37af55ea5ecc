// The step runner: one durable state machine per deployment, from request to report. Every
// transition is written to SQLite before it takes effect; at start-up `resumeInFlight()` picks up
// what was running. Front ends start runs, send commands and subscribe to events: nothing else.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { Clock } from '../clock.js';
import { findService, type ServiceConfig, type ShipbotConfig } from '../config.js';
import type { RolloutDriver, RolloutState, WorkloadRef } from '../cluster/types.js';
import { activeFreeze, describeFreeze } from '../domain/freeze.js';
import { strategyRefusal } from '../domain/migration-policy.js';
import { truncate } from '../domain/text.js';
import type { Actor, Environment, Strategy } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Summarise } from '../reports/report.js';
import { writeRunReports } from '../reports/write.js';
import type { RunFilter, Store } from '../store/store.js';
import { actorLabel, type LockRecord, type RunRecord } from '../store/records.js';
import { mayApprove, mayDecide, mayDeploy, needsApproval } from './access.js';
import { matchesPrincipal } from '../domain/permissions.js';
import type { RunAnalysis } from './analysis.js';
import { executeStep, type StepOutcome } from './execute.js';
import { migrates, rollbackNeedsPerson, type Migrate } from './migration-step.js';
import { commandEffect, resumeDecision, roleFor } from './policy.js';
import { initialSteps, nextStep, productionTouched, setStep, skipRemaining, STEP, withRollbackSteps } from './steps.js';
import {
  FINAL_STATUSES,
  type CommandResult,
  type Diagnostics,
  type RunCommand,
  type RunEvent,
  type RunStatus,
  type RunView,
  type StartInput,
  type StartResult,
} from '../domain/run.js';

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
  /** Raw facts for Investigate (pods, events, log tail) from the cluster. */
  diagnose?: (ref: WorkloadRef, state: RolloutState) => Promise<Pick<Diagnostics, 'pods' | 'events' | 'logTail'>>;
  /** Optional LLM-written lessons / summaries for reports; deterministic text otherwise. */
  summarise?: Summarise;
  newId?: () => string;
  /** How long (real ms) a busy database is waited out before the run is held and `store-failed` is emitted (default 10 min). */
  storeRetryMs?: number;
}

/** Statuses in which the run waits for a person or the lock, with nothing to execute. */
const WAITING: ReadonlySet<RunStatus> = new Set(['pending-approval', 'queued', 'awaiting-decision', 'paused']);

class Closed extends Error {}

interface Active {
  rec: RunRecord;
  abort: AbortController;
  wake?: () => void;
  skip: { promise: Promise<void>; resolve: () => void };
  loop?: Promise<void>;
  /** The handler of a step a command abandoned: its in-flight cluster call must land before we revert. */
  abandoned?: Promise<unknown>;
}

export function defaultRef(service: ServiceConfig, environment: Environment): WorkloadRef | undefined {
  const env = service.environments[environment];
  if (!env) return undefined;
  const migration = env.migration ?? service.migration;
  return { ...env, serviceName: service.name, imageRepo: env.image ?? service.image, ...(migration ? { migration } : {}) };
}

export function toView(rec: RunRecord): RunView {
  const { request: _r, rolloutState: _s, data: _d, dedupeKey: _k, ...view } = rec;
  return structuredClone({
    ...view,
    ...(rec.data.restarts?.length ? { restarts: rec.data.restarts } : {}),
    ...(rec.data.keptLock ? { keptLock: rec.data.keptLock } : {}),
  });
}

/** What a thread says when a restarted Shipbot picks its run up. */
function restartNote(at: number, what: string): { at: number; note: string } {
  return { at, note: `Shipbot restarted at ${new Date(at).toISOString().slice(11, 16)} UTC; ${what}` };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export class Runner {
  private readonly active = new Map<string, Active>();
  private readonly listeners = new Set<(ev: RunEvent) => void>();
  /** Pod reads started at a decision, per run: `finish` waits for them so the record it saves has them. */
  private readonly podReads = new Map<string, Promise<void>>();
  private closed = false;
  private readonly newId: () => string;

  constructor(private readonly deps: RunnerDeps) {
    this.newId = deps.newId ?? (() => `r-${randomUUID().slice(0, 8)}`);
  }

  // --- public API -------------------------------------------------------------------------------

  subscribe(listener: (ev: RunEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get(runId: string): RunView | undefined {
    const rec = this.active.get(runId)?.rec ?? this.deps.store.getRun(runId);
    return rec ? toView(rec) : undefined;
  }

  /** The full record (plan, rollout state, what was learned) for reports and tests. */
  record(runId: string): RunRecord | undefined {
    const rec = this.active.get(runId)?.rec ?? this.deps.store.getRun(runId);
    return rec ? structuredClone(rec) : undefined;
  }

  list(filter?: RunFilter): RunView[] {
    return this.deps.store.listRuns(filter).map((r) => toView(this.active.get(r.id)?.rec ?? r));
  }

  /** Resolves when the run reaches a final status (or the runner closes). */
  async settled(runId: string): Promise<RunView | undefined> {
    const a = this.active.get(runId);
    if (a?.loop) await a.loop;
    return this.get(runId);
  }

  async start(input: StartInput): Promise<StartResult> {
    const { store, config, clock } = this.deps;
    if (this.closed) return { ok: false, reason: 'invalid', message: 'Shipbot is shutting down; try again in a moment.' };
    if (input.dedupeKey) {
      const existing = store.getRunByDedupeKey(input.dedupeKey);
      if (existing) return { ok: true, run: toView(this.active.get(existing.id)?.rec ?? existing) };
    }
    const plan = input.plan;
    const service = findService(config, plan.service);
    if (!service)
      return {
        ok: false,
        reason: 'invalid',
        message: `Unknown service '${plan.service}'. Known: ${config.services.map((s) => s.name).join(', ')}.`,
      };
    if (!service.environments[plan.environment]) {
      return {
        ok: false,
        reason: 'invalid',
        message: `${service.name} has no ${plan.environment} environment in the catalogue (data/shipbot.yml).`,
      };
    }
    if (!service.strategies.includes(plan.strategy)) {
      return {
        ok: false,
        reason: 'invalid',
        message: `${service.name} does not allow ${plan.strategy}; choose one of ${service.strategies.join(', ')}.`,
      };
    }
    const refusal = strategyRefusal(service, plan.environment, plan.dbMigration, plan.strategy);
    if (refusal) return { ok: false, reason: 'invalid', message: `${refusal}.` };
    const deploy = mayDeploy(config, input.requester, plan);
    if (!deploy.ok) return { ok: false, reason: 'forbidden', message: deploy.reason };
    const freeze = activeFreeze(config.freezeWindows, plan.environment, new Date(clock.now()));
    const override = freeze && input.freezeOverride;
    if (freeze && !override)
      return {
        ok: false,
        reason: 'frozen',
        message: `${describeFreeze(freeze)} Try again after the freeze, or ask an incident commander to override it.`,
      };
    if (override && !matchesPrincipal(override.actor, config.roles.incidentCommanders)) {
      return {
        ok: false,
        reason: 'forbidden',
        message: `${describeFreeze(freeze)} Only incident commanders (roles.incidentCommanders in shipbot.yml) may override a freeze; ask one of them.`,
      };
    }

    const now = clock.now();
    const id = this.newId();
    const holder = actorLabel(input.requester);
    const rec: RunRecord = {
      id,
      service: service.name,
      environment: plan.environment,
      version: plan.version,
      strategy: plan.strategy,
      plan: { ...plan, service: service.name },
      request: input.request,
      status: 'running',
      requester: input.requester,
      origin: input.origin,
      steps: initialSteps(plan, Boolean(service.environments.staging), {
        staging: plan.environment === 'production' && migrates(plan, this.ref(service, 'staging')),
        target: migrates(plan, this.ref(service, plan.environment)),
      }),
      data: override
        ? { freezeOverride: { by: actorLabel(override.actor), reason: override.reason, at: now, freeze: describeFreeze(freeze) } }
        : {},
      createdAt: now,
      updatedAt: now,
      ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
    };
    // Lock, run row and audit entry in one transaction: a crash leaves all or none.
    const refused = store.tx((): StartResult | undefined => {
      const got = store.acquireLock({
        service: rec.service,
        environment: rec.environment,
        holder,
        runId: id,
        since: now,
        reason: `deploying ${plan.version}`,
        kind: 'run',
      });
      if (!got.ok) {
        if (!input.queueIfLocked) return { ok: false, reason: 'locked', message: lockedMessage(got.holder) };
        rec.status = 'queued';
        rec.stage = `queued behind ${got.holder.runId ?? got.holder.holder}`;
      } else if (needsApproval(config, plan)) {
        rec.status = 'pending-approval';
        rec.stage = `waiting for an approval from someone other than ${holder}`;
      }
      store.saveRun(rec);
      store.audit({
        runId: id,
        at: now,
        actor: holder,
        action: 'start',
        detail: `${plan.service} ${plan.version} to ${plan.environment} (${plan.strategy}, ${plan.risk} risk) → ${rec.status}`,
      });
      if (override)
        store.audit({
          runId: id,
          at: now,
          actor: actorLabel(override.actor),
          action: 'freeze-override',
          detail: `${describeFreeze(freeze)} Overridden: ${override.reason}`,
        });
      return undefined;
    });
    if (refused) return refused;
    this.emitAudit(id, holder, 'start', rec.status);
    this.emit(rec, true);
    this.attach(rec);
    return { ok: true, run: toView(rec) };
  }

  async command(runId: string, cmd: RunCommand, actor: Actor): Promise<CommandResult> {
    const { store, config, clock } = this.deps;
    const a = this.active.get(runId);
    const rec = a?.rec ?? store.getRun(runId);
    if (!rec) return { ok: false, reason: 'not-found', message: `No run ${runId}. \`shipbot runs\` lists them.` };
    const who = actorLabel(actor);
    // People read names; the audit trail keeps the id too.
    const name = actor.name ?? actor.userId;
    const role = roleFor(cmd);
    const allowed =
      role === 'approve'
        ? mayApprove(config, actor, rec.requester)
        : role === 'decide'
          ? mayDecide(config, actor, rec.requester)
          : { ok: true as const };
    if (!allowed.ok) {
      this.audit(rec.id, who, `${cmd}-refused`, allowed.reason);
      return { ok: false, reason: 'forbidden', message: allowed.reason };
    }
    const effect = commandEffect(rec, cmd);
    if (effect.kind === 'refuse') return { ok: false, reason: 'invalid-state', message: effect.note };
    if (effect.kind === 'noop') {
      this.audit(rec.id, who, `${cmd}-repeated`, effect.note);
      return { ok: true, acted: false, message: effect.note };
    }
    // Everything below up to the first await runs synchronously: a second identical command
    // arriving meanwhile sees the new state and becomes a no-op.
    const now = clock.now();
    this.audit(rec.id, who, cmd, effect.note);
    switch (cmd) {
      case 'investigate': {
        const d = await this.investigate(rec.id, actor, false);
        return {
          ok: true,
          acted: true,
          message: d.summary ?? `diagnostics collected: ${d.pods.length} pods, ${d.failingChecks.length} failing checks`,
        };
      }
      case 'approve':
        (rec.data.approvals ??= []).push({ by: actor.userId, at: now });
        this.transition(rec, 'running', { stage: `approved by ${name}` }, true);
        break;
      case 'accept':
        rec.data.accepted = { by: who, at: now, explanation: rec.pendingDecision?.explanation ?? '' };
        delete rec.pendingDecision;
        this.transition(rec, 'running', { stage: `accepted by ${who}` }, true);
        break;
      case 'pause':
        this.transition(rec, 'paused', { stage: `paused by ${name}` }, true);
        break;
      case 'resume':
        this.transition(rec, 'running', { stage: `resumed by ${name}` }, true);
        break;
      case 'promote': {
        const step = nextStep(rec.steps)!;
        (rec.data.promotedSteps ??= []).push(step.key);
        this.save(rec, false);
        a?.skip.resolve();
        break;
      }
      case 'rollback':
      case 'cancel':
        if (effect.to === 'cancelled') {
          rec.steps = skipRemaining(rec.steps, `cancelled by ${name}`);
          a?.abort.abort(new Error('cancelled'));
          await this.finish(rec, 'cancelled', `cancelled by ${name}`);
        } else {
          this.beginRollback(rec, `${cmd === 'cancel' ? 'cancelled' : 'rollback requested'} by ${name}`, who, false);
        }
        break;
    }
    this.wake(rec.id);
    return { ok: true, acted: true, message: effect.note };
  }

  /** Locks a service and environment by hand (e.g. during an incident). */
  lock(service: string, environment: Environment, actor: Actor, reason: string): { ok: boolean; message: string } {
    const who = actorLabel(actor);
    const got = this.deps.store.acquireLock({ service, environment, holder: who, since: this.deps.clock.now(), reason, kind: 'manual' });
    if (!got.ok) return { ok: false, message: lockedMessage(got.holder) };
    this.audit(undefined, who, 'lock', `${service}/${environment}: ${reason}`);
    return { ok: true, message: `${service} in ${environment} is locked by ${who}: ${reason}` };
  }

  /** Releases a manual lock or one kept after an automatic rollback; a live run's lock goes with the run. */
  /** `keptBy`: only the lock that run kept (an Unlock button in its thread; a later lock is not its to lift). */
  unlock(
    service: string,
    environment: Environment,
    actor: Actor,
    reason = '',
    keptBy?: string,
  ): { ok: boolean; acted?: boolean; message: string } {
    const { store, config } = this.deps;
    const who = actorLabel(actor);
    const lock = store.getLock(service, environment);
    if (!lock) return { ok: true, acted: false, message: `${service} in ${environment} is not locked any more` };
    if (keptBy && lock.runId !== keptBy)
      return { ok: true, acted: false, message: `${service} in ${environment} is no longer held by run ${keptBy}` };
    const run = lock.runId ? (this.active.get(lock.runId)?.rec ?? store.getRun(lock.runId)) : undefined;
    if (lock.kind === 'run' && run && !FINAL_STATUSES.has(run.status)) {
      return {
        ok: false,
        message: `${service} in ${environment} is held by run ${run.id} (${run.status}); cancel or roll it back instead.`,
      };
    }
    const holderIsActor = lock.holder === who || run?.requester.userId === actor.userId;
    if (!holderIsActor && !mayDecide(config, actor, run?.requester ?? { userId: '\u0000' }).ok) {
      return {
        ok: false,
        message: `${who} may not unlock ${service} in ${environment}: only ${lock.holder} or an incident commander may.`,
      };
    }
    store.releaseLock(service, environment);
    this.audit(lock.runId, who, 'unlock', `${service}/${environment}${reason ? `: ${reason}` : ''} (was: ${lock.reason})`);
    this.startNextQueued(service, environment);
    return { ok: true, acted: true, message: `${service} in ${environment} is unlocked` };
  }

  getLock(service: string, environment: Environment): LockRecord | undefined {
    return this.deps.store.getLock(service, environment);
  }

  auditTrail(runId?: string) {
    return this.deps.store.auditTrail(runId);
  }

  async investigate(runId: string, actor: Actor, audit = true): Promise<Diagnostics> {
    const rec = this.active.get(runId)?.rec ?? this.deps.store.getRun(runId);
    if (!rec) throw new Error(`No run ${runId}. \`shipbot runs\` lists them.`);
    if (audit) this.audit(rec.id, actorLabel(actor), 'investigate', 'collecting diagnostics');
    const service = findService(this.deps.config, rec.service);
    const ref = service ? this.ref(service, rec.environment) : undefined;
    const driver = this.deps.drivers(rec.strategy, ref?.context);
    const d: Diagnostics = { runId: rec.id, pods: [], events: [], metrics: [], failingChecks: [], logTail: [] };
    const last = rec.data.decisions?.at(-1);
    if (last?.candidate && last.baseline) {
      const c = last.candidate;
      const b = last.baseline;
      d.metrics.push(
        {
          metric: 'error rate',
          candidate: pct(c.errorRate),
          baseline: pct(b.errorRate),
          delta: `${((c.errorRate - b.errorRate) * 100).toFixed(2)} pts`,
        },
        {
          metric: 'p99 latency',
          candidate: `${c.p99Ms.toFixed(0)} ms`,
          baseline: `${b.p99Ms.toFixed(0)} ms`,
          delta: b.p99Ms ? `${(((c.p99Ms - b.p99Ms) / b.p99Ms) * 100).toFixed(0)}%` : 'n/a',
        },
        {
          metric: 'throughput',
          candidate: `${c.throughputRps.toFixed(1)} rps`,
          baseline: `${b.throughputRps.toFixed(1)} rps`,
          delta: `${(c.throughputRps - b.throughputRps).toFixed(1)} rps`,
        },
      );
    }
    if (last) d.findings = last.decision.findings;
    if (rec.data.keptLock) d.stillLocked = this.deps.store.getLock(rec.service, rec.environment)?.runId === rec.id;
    for (const f of last?.decision.findings ?? []) if (f.verdict !== 'CONTINUE') d.failingChecks.push(`${f.rule}: ${f.detail}`);
    for (const s of rec.data.smoke ?? []) if (!s.ok) d.failingChecks.push(`smoke ${s.name}: ${s.detail}`);
    if (ref && rec.rolloutState) {
      try {
        for (const s of await driver.signals(ref, rec.rolloutState)) d.failingChecks.push(`${s.kind}: ${JSON.stringify(s)}`);
      } catch (err) {
        d.failingChecks.push(`cluster signals unavailable: ${(err as Error).message}`);
      }
    }
    const seen = rec.data.atDecision;
    if (seen)
      Object.assign(d, {
        pods: seen.pods,
        events: seen.events,
        logTail: seen.logTail,
        podsAt: { at: seen.at, environment: seen.environment },
      });
    if (this.deps.diagnose && ref && rec.rolloutState) {
      try {
        const now = await this.deps.diagnose(ref, rec.rolloutState);
        if (seen) d.podsNow = now.pods;
        else Object.assign(d, now);
      } catch (err) {
        d.logTail.push(`diagnostics from the cluster failed: ${(err as Error).message}`);
      }
    }
    return d;
  }

  /**
   * Reads the pods where the decision was made while they still exist (a rollback removes the
   * canary's), alongside the rollback rather than before it: reverting traffic is not delayed.
   */
  private rememberPodsAtDecision(rec: RunRecord): void {
    const service = findService(this.deps.config, rec.service);
    if (!this.deps.diagnose || !service || rec.data.atDecision) return;
    const atStaging = !productionTouched(rec.steps) && rec.data.stagingRolloutState !== undefined;
    const environment: Environment = atStaging ? 'staging' : rec.environment;
    const ref = this.ref(service, environment);
    const state = atStaging ? rec.data.stagingRolloutState : rec.rolloutState;
    if (!ref || !state) return;
    const at = this.deps.clock.now();
    const read = this.deps.diagnose(ref, state).then(
      (d) => {
        rec.data.atDecision ??= { at, environment, ...d };
        // A finishing run saves it with its final record; saving here would show a final status early.
        if (!this.closed && !FINAL_STATUSES.has(rec.status)) this.save(rec, false);
      },
      (err: unknown) => this.deps.logger.warn({ err, runId: rec.id }, 'reading the pods at the decision failed'),
    );
    this.podReads.set(
      rec.id,
      read.finally(() => this.podReads.delete(rec.id)),
    );
  }

  /** At start-up: resumes runs that were in flight, or stops them safely saying what to check. */
  async resumeInFlight(): Promise<Array<{ runId: string; action: string; note: string }>> {
    const { store, config, clock } = this.deps;
    const out: Array<{ runId: string; action: string; note: string }> = [];
    const live = store
      .listRuns({ status: ['pending-approval', 'queued', 'running', 'awaiting-decision', 'paused', 'rolling-back'] })
      .reverse();
    for (const rec of live) {
      if (this.active.has(rec.id)) continue;
      const decision = resumeDecision(rec, Boolean(findService(config, rec.service)));
      if (decision.action === 'none') continue;
      if (decision.action === 'wait') {
        this.attach(rec);
        out.push({ runId: rec.id, action: 'wait', note: rec.status });
        continue;
      }
      if (decision.action === 'stop') {
        const running = rec.steps.find((s) => s.status === 'running');
        if (running)
          rec.steps = setStep(rec.steps, running.key, { status: 'failed', detail: 'interrupted by a restart', endedAt: clock.now() });
        rec.steps = skipRemaining(rec.steps, 'stopped after a restart');
        (rec.data.restarts ??= []).push(restartNote(clock.now(), `stopped safely: ${decision.reason}`));
        this.audit(rec.id, 'shipbot', 'stop-after-restart', decision.reason);
        await this.finish(rec, 'stopped', decision.reason);
        out.push({ runId: rec.id, action: 'stop', note: decision.reason });
        continue;
      }
      // A deliberate stop is not an interruption of the step: the budget counts crashes only.
      if (decision.step && rec.data.cleanStopAt === undefined)
        (rec.data.resumes ??= {})[decision.step] = (rec.data.resumes?.[decision.step] ?? 0) + 1;
      delete rec.data.cleanStopAt;
      (rec.data.restarts ??= []).push(restartNote(clock.now(), decision.note));
      this.audit(rec.id, 'shipbot', 'resume-after-restart', decision.note);
      this.save(rec, true);
      this.attach(rec);
      out.push({ runId: rec.id, action: 'resume', note: decision.note });
    }
    return out;
  }

  /** Stops driving runs without changing their records: what a crash would leave, minus the crash. */
  /**
   * A deliberate stop (SIGTERM from a rollout or an eviction, Ctrl-C): like close(), and each
   * interrupted run is marked, so resuming it does not count against its resume budget. The
   * budget is a guard against a step that crashes Shipbot, and a restart is not a run's fault.
   */
  async shutdown(): Promise<void> {
    const at = this.deps.clock.now();
    const interrupted = [...this.active.values()]
      .map((a) => a.rec)
      .filter((rec) => !FINAL_STATUSES.has(rec.status) && !WAITING.has(rec.status));
    await this.close();
    for (const rec of interrupted) {
      rec.data.cleanStopAt = at;
      try {
        this.deps.store.saveRun(rec);
      } catch (err) {
        this.deps.logger.warn(
          { err, runId: rec.id },
          'could not mark the run as stopped on purpose; its resume will count as an interruption',
        );
      }
    }
  }

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
    this.listeners.clear();
  }

  // --- the loop ---------------------------------------------------------------------------------

  private attach(rec: RunRecord): void {
    if (FINAL_STATUSES.has(rec.status) || this.closed) return;
    const a: Active = { rec, abort: new AbortController(), skip: deferred() };
    this.active.set(rec.id, a);
    a.loop = this.drive(a).finally(() => {
      if (this.active.get(rec.id) === a && FINAL_STATUSES.has(a.rec.status)) this.active.delete(rec.id);
    });
  }

  private wake(runId: string): void {
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
        const step = nextStep(rec.steps);
        if (!step) {
          await this.finish(rec, 'failed', 'the run had no step left to execute; this is a Shipbot bug, please report it');
          return;
        }
        try {
          await this.runStep(a, step.key, log);
        } catch (err) {
          if (!isStoreBusy(err) || this.closed) throw err;
          await this.waitForStore(a, log);
        }
      }
    } catch (err) {
      if (this.closed || err instanceof Closed) return;
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
    this.save(rec, false);
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
        save: () => {
          if (!signal.aborted) this.save(rec, false);
        },
        progress: (line) => {
          if (signal.aborted) return;
          rec.steps = setStep(rec.steps, key, { detail: line });
          this.emit(rec, false);
        },
        writeIncident: () => this.writeIncident(rec),
        migrate: this.deps.migrate ?? (() => Promise.reject(new Error('this Shipbot was built without a way to run migration Jobs'))),
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
      this.save(rec, outcome.status === 'failed');
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
    if (productionTouched(rec.steps) || key === STEP.stagingDeploy || key === STEP.stagingGate) {
      return { status: 'failed', detail: msg, next: { kind: 'rollback', reason: `step failed: ${msg}` } };
    }
    return { status: 'failed', detail: msg, next: { kind: 'fail', reason: msg } };
  }

  private beginRollback(rec: RunRecord, reason: string, by: string, automatic: boolean): void {
    if (rec.data.rollback) return;
    this.rememberPodsAtDecision(rec);
    rec.data.rollback = { reason, by, at: this.deps.clock.now(), automatic };
    rec.steps = withRollbackSteps(rec.steps, reason);
    delete rec.pendingDecision;
    this.transition(rec, 'rolling-back', { stage: `rolling back: ${reason}` }, true);
    // Revert traffic first: whatever the current step waits on (monitoring, analysis) is abandoned.
    this.active.get(rec.id)?.abort.abort(new Error('rollback'));
    if (automatic) this.audit(rec.id, 'shipbot', 'automatic-rollback', reason);
  }

  private transition(rec: RunRecord, status: RunStatus, patch: Partial<RunRecord>, important: boolean): void {
    Object.assign(rec, patch);
    rec.status = status;
    this.save(rec, important);
  }

  /** Writes the reports, settles the lock and records the final status in one transaction. */
  private async finish(rec: RunRecord, status: RunStatus, outcome: string): Promise<void> {
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
      productionTouched(rec.steps) &&
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
      this.save(rec, true);
      store.audit({ runId: rec.id, at: now, actor: 'shipbot', action: status, detail: outcome });
    });
    this.emitAudit(rec.id, 'shipbot', status, outcome);
    if (!keepLock) this.startNextQueued(rec.service, rec.environment);
  }

  private startNextQueued(service: string, environment: string): void {
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
    const approval = needsApproval(config, rec.plan) && !rec.data.approvals?.length;
    this.transition(
      rec,
      approval ? 'pending-approval' : 'running',
      { stage: approval ? 'waiting for an approval' : 'lock acquired' },
      true,
    );
    this.audit(rec.id, 'shipbot', 'dequeued', 'the lock was free');
    this.wake(rec.id);
  }

  private async writeIncident(rec: RunRecord): Promise<string | undefined> {
    // The incident file is written with the final report (reports/write.ts), when the rollback's
    // verification is known; here the incident enters the audit trail.
    if (!rec.data.rollback) return undefined;
    this.audit(rec.id, 'shipbot', 'incident', rec.data.rollback.reason);
    return `${rec.id}-incident.md`;
  }

  private ref(service: ServiceConfig, env: Environment): WorkloadRef | undefined {
    return (this.deps.resolveRef ?? defaultRef)(service, env);
  }

  // --- persistence and events -------------------------------------------------------------------

  /**
   * A write lock held by someone else (a backup, an admin's sqlite3 shell): no cluster change
   * happens until this run's record is saved again, retried with backoff (real time: the lock
   * holder lives in real time). Steps are "ensure" operations, so the one interrupted runs again.
   */
  private async waitForStore(a: Active, log: Logger): Promise<void> {
    let wait = 500;
    const budgetMs = this.deps.storeRetryMs ?? 600_000;
    const giveUpAt = Date.now() + budgetMs;
    for (let attempt = 1; !this.closed; attempt++) {
      if (Date.now() >= giveUpAt) {
        // Held for good: this run makes no further change; the database keeps its last saved state.
        const message = `the database could not be written for ${Math.round(budgetMs / 1000)} s (another writer holds it, or the disk is full): run ${a.rec.id} is held where it was last saved, with no further cluster change; fix the database, then restart Shipbot to resume it`;
        log.error({ runId: a.rec.id }, message);
        for (const l of this.listeners) safe(() => l({ type: 'store-failed', runId: a.rec.id, message }));
        throw new Closed('store failed');
      }
      log.warn(
        { attempt, retryInMs: wait },
        'the database is locked by another writer; holding this run (no cluster change) until it is free',
      );
      await new Promise((r) => setTimeout(r, wait));
      try {
        this.save(a.rec, false);
        return;
      } catch (err) {
        if (!isStoreBusy(err)) throw err;
        wait = Math.min(10_000, wait * 2);
      }
    }
  }

  private save(rec: RunRecord, important: boolean): void {
    rec.updatedAt = this.deps.clock.now();
    this.deps.store.saveRun(rec);
    this.emit(rec, important);
  }

  private audit(runId: string | undefined, actor: string, action: string, detail: string): void {
    const at = this.deps.clock.now();
    this.deps.store.audit({ ...(runId ? { runId } : {}), at, actor, action, detail });
    this.emitAudit(runId ?? '', actor, action, detail, at);
  }

  private emit(rec: RunRecord, important: boolean): void {
    if (!this.listeners.size) return;
    const run = toView(rec);
    for (const l of this.listeners) safe(() => l({ type: 'run-updated', run, important }));
  }

  private emitAudit(runId: string, actor: string, action: string, detail: string, at = this.deps.clock.now()): void {
    for (const l of this.listeners) safe(() => l({ type: 'audit', runId, actor, action, detail, at }));
  }
}

/** SQLite said another connection holds the lock (after the store's busy timeout). */
export function isStoreBusy(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A front end's listener failing must never stop a deployment.
  }
}

function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Why a deploy is refused for a lock, in two lines: who holds it and why, then how it ends. */
export function lockedMessage(l: LockRecord): string {
  const since = fmtTime(l.since);
  if (l.kind === 'run')
    return `🔒 ${l.service} in ${l.environment} is busy: ${l.holder} is ${l.reason} (run ${l.runId}, since ${since}).\nIt frees itself when that run ends: start again then.`;
  const why = l.kind === 'held' ? `locked after ${l.reason}` : `locked by ${l.holder}: ${l.reason}`;
  return `🔒 ${l.service} in ${l.environment} is ${why}, since ${since}.\nOnce it is checked, an incident commander unlocks it: \`unlock ${l.service} ${l.environment}\`.`;
}

/** Rejects as soon as `signal` aborts, even if `p` is still waiting on something slow. */
function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
