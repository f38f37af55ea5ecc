// The step runner: one durable state machine per deployment, from request to report. Every
// transition is written to SQLite before it takes effect; at start-up `resumeInFlight()` picks up
// what was running. Front ends start runs, send commands and subscribe to events: nothing else.
import { randomUUID } from 'node:crypto';
import { wallTime } from '../clock.js';
import { findService } from '../config.js';
import { describeFreeze } from '../domain/freeze.js';
import { labelName } from '../domain/text.js';
import type { Actor, Environment } from '../domain/types.js';
import type { RunFilter } from '../store/run-store.js';
import { actorLabel, type AuditRecord, type LineStop, type LockRecord, type RunRecord } from '../store/records.js';
import { isIncidentCommander, mayAccept, mayApprove, mayDecide, mayLock, mayUnlock, needsApproval } from '../domain/permissions.js';
import { admitStart, newRunRecord } from './admission.js';
import { collectDiagnostics } from './diagnostics.js';
import { Journal } from './journal.js';
import { StepLoop, WAITING, type RunnerDeps } from './loop.js';
import { migrates } from './handlers/migration-step.js';
import { commandEffect, resumeDecision, roleFor } from './model/next-move.js';
import { lineStoppedMessage, lockedMessage, restartNote } from './messages.js';
import { toView } from './view.js';
import { type LineResult, resumeLine, stopLine } from './line-stop.js';
import {
  type CommandResult,
  type Diagnostics,
  type RunCommand,
  type RunEvent,
  type RunView,
  type StartInput,
  type StartResult,
  isEnded,
  pendingDecision,
  waitsAtPause,
} from '../domain/run.js';

export type { RunnerDeps } from './loop.js';

/** Investigate: at most this many presses per run in a minute. */
const INVESTIGATE_PER_WINDOW = 3;
const INVESTIGATE_WINDOW_MS = 60_000;

export class Runner {
  private readonly journal: Journal;
  private readonly loop: StepLoop;
  private readonly newId: () => string;
  /** Real-time moments of recent Investigate presses, per run. */
  private readonly investigations = new Map<string, number[]>();

  constructor(private readonly deps: RunnerDeps) {
    this.newId = deps.newId ?? (() => `r-${randomUUID().slice(0, 8)}`);
    this.journal = new Journal(deps.store, deps.clock, deps.logger);
    this.loop = new StepLoop(deps, this.journal);
  }

  // --- public API -------------------------------------------------------------------------------

  subscribe(listener: (ev: RunEvent) => void): () => void {
    return this.journal.subscribe(listener);
  }

  async get(runId: string): Promise<RunView | undefined> {
    const rec = await this.loop.live(runId);
    return rec ? toView(rec) : undefined;
  }

  /** The full record (plan, rollout state, what was learned) for reports and tests. */
  async record(runId: string): Promise<RunRecord | undefined> {
    const rec = await this.loop.live(runId);
    return rec ? structuredClone(rec) : undefined;
  }

  async list(filter?: RunFilter): Promise<RunView[]> {
    return (await this.deps.store.listRuns(filter)).map((r) => toView(this.loop.active.get(r.id)?.rec ?? r));
  }

  /** Resolves when the run reaches a final status (or the runner closes), with every write it asked for saved. */
  async settled(runId: string): Promise<RunView | undefined> {
    const a = this.loop.active.get(runId);
    if (a?.loop) await a.loop;
    await this.journal.drained();
    return this.get(runId);
  }

  /**
   * A Rollout carries its own strategy and steps: a plan that did not ask for one takes the
   * Rollout's; one that asked for another is refused before anything starts. Unreadable: left to
   * the validation step, which says why.
   */
  private async fitToWorkload(input: StartInput): Promise<{ ok: true; plan: StartInput['plan'] } | Extract<StartResult, { ok: false }>> {
    const { plan, request } = input;
    const service = findService(this.deps.config, plan.service);
    const ref = service && this.loop.ref(service, plan.environment);
    if (ref?.kind !== 'Rollout') return { ok: true, plan };
    const own = await this.deps.drivers(plan.strategy, ref).ownStrategy?.(ref);
    if (!own || own === plan.strategy) return { ok: true, plan };
    if (request.strategy)
      return {
        ok: false,
        reason: 'invalid',
        message: `${plan.service} runs as an Argo Rollout with a ${own} strategy in ${plan.environment}: Shipbot drives the Rollout's own steps, so ask for ${own} (or leave the strategy out).`,
      };
    return { ok: true, plan: { ...plan, strategy: own, rationale: `the Rollout's own strategy: its steps are the Rollout's` } };
  }

  async start(input: StartInput): Promise<StartResult> {
    const { store, config, clock } = this.deps;
    if (this.loop.closed) return { ok: false, reason: 'invalid', message: 'Shipbot is shutting down; try again in a moment.' };
    if (input.dedupeKey) {
      const existing = await store.getRunByDedupeKey(input.dedupeKey);
      if (existing) return { ok: true, run: toView(this.loop.active.get(existing.id)?.rec ?? existing) };
    }
    const stop = await store.lineStop();
    if (stop) return { ok: false, reason: 'frozen', message: lineStoppedMessage(stop) };
    const fitted = await this.fitToWorkload(input);
    if (!fitted.ok) return fitted;
    const plan = fitted.plan;
    input = { ...input, plan };
    const admitted = admitStart(config, clock.now(), input);
    if (!admitted.ok) return admitted;
    const { service, override } = admitted;

    const now = clock.now();
    const id = this.newId();
    const holder = actorLabel(input.requester);
    const migrations = {
      staging: plan.environment === 'production' && migrates(plan, this.loop.ref(service, 'staging')),
      target: migrates(plan, this.loop.ref(service, plan.environment)),
    };
    // Lock, run row and audit entries in one write: a crash leaves all or none.
    const lock = {
      service: service.name,
      environment: plan.environment,
      holder,
      runId: id,
      since: now,
      reason: `deploying ${plan.version}`,
      kind: 'run' as const,
    };
    const started = await this.journal.write((s) =>
      s.startRun(lock, (got) => {
        if (!got.ok && !input.queueIfLocked) return undefined;
        const behind = got.ok ? undefined : (got.holder.runId ?? got.holder.holder);
        const rec = newRunRecord(
          id,
          now,
          input,
          admitted,
          migrations,
          behind
            ? { phase: { status: 'queued', behind }, stage: `queued behind ${behind}` }
            : needsApproval(plan, config)
              ? { phase: { status: 'pending-approval' }, stage: `waiting for an approval from someone other than ${labelName(holder)}` }
              : { phase: { status: 'running' } },
        );
        const audits = [
          {
            runId: id,
            at: now,
            actor: holder,
            action: 'start',
            detail: `${plan.service} ${plan.version} to ${plan.environment} (${plan.strategy}, ${plan.risk} risk) → ${rec.phase.status}`,
          },
        ];
        if (override)
          audits.push({
            runId: id,
            at: now,
            actor: actorLabel(override.by.actor),
            action: 'freeze-override',
            detail: `${describeFreeze(override.freeze)} Overridden: ${override.by.reason}`,
          });
        return { run: rec, audits };
      }),
    );
    const { got, run: rec } = started;
    if (!rec)
      return { ok: false, reason: 'locked', message: got.ok ? 'the lock was taken meanwhile' : lockedMessage(got.holder, this.wallTime) };
    this.journal.emitAudit(id, holder, 'start', rec.phase.status);
    this.journal.emit(rec, true);
    this.loop.attach(rec);
    return { ok: true, run: toView(rec) };
  }

  async command(runId: string, cmd: RunCommand, actor: Actor): Promise<CommandResult> {
    const { store, config, clock } = this.deps;
    // Every read that waits comes first; from the live record on, nothing waits until the
    // command's event is applied: a second identical command arriving meanwhile sees the new
    // state and becomes a no-op.
    const stop = await store.lineStop();
    const stored = this.loop.active.has(runId) ? undefined : await store.getRun(runId);
    const rec = this.loop.active.get(runId)?.rec ?? stored;
    if (!rec) return { ok: false, reason: 'not-found', message: `No run ${runId}. \`shipbot runs\` lists them.` };
    const who = actorLabel(actor);
    const role = roleFor(cmd);
    const allowed =
      role === 'approve'
        ? mayApprove(actor, rec.requester, config)
        : cmd === 'accept' && !waitsAtPause(pendingDecision(rec))
          ? mayAccept(actor, { requester: rec.requester, approved: needsApproval(rec.plan, config) }, config)
          : role === 'decide'
            ? mayDecide(actor, rec, config)
            : { ok: true as const };
    if (!allowed.ok) {
      await this.journal.audit(rec.id, who, `${cmd}-refused`, allowed.reason);
      return { ok: false, reason: 'forbidden', message: allowed.reason };
    }
    // While the line is stopped nothing moves forward, except an incident commander resuming one run.
    if (stop && (cmd === 'accept' || cmd === 'approve' || cmd === 'promote' || (cmd === 'resume' && !isIncidentCommander(actor, config)))) {
      await this.journal.audit(rec.id, who, `${cmd}-refused`, 'all deploys are stopped');
      return { ok: false, reason: 'forbidden', message: lineStoppedMessage(stop) };
    }
    const effect = commandEffect(rec, cmd);
    if (effect.kind === 'refuse') return { ok: false, reason: 'invalid-state', message: effect.note };
    if (effect.kind === 'noop') {
      await this.journal.audit(rec.id, who, `${cmd}-repeated`, effect.note);
      return { ok: true, acted: false, message: effect.note };
    }
    void this.journal.audit(rec.id, who, cmd, effect.note, true);
    if (cmd === 'investigate') {
      const d = await this.investigate(rec.id, actor, false);
      return {
        ok: true,
        acted: true,
        message: d.summary ?? `diagnostics collected: ${d.pods.length} pods, ${d.failingChecks.length} failing checks`,
      };
    }
    const lineStop = cmd === 'resume' && stop ? { lineStop: stop } : {};
    await this.loop.dispatch(rec, { type: 'command', cmd, actor, at: clock.now(), ...lineStop }).settled;
    await this.loop.wake(rec.id);
    return { ok: true, acted: true, message: effect.note };
  }

  /** "stop all deploys <reason>" (line-stop.ts). */
  stopAll(actor: Actor, reason: string): Promise<LineResult> {
    return stopLine(this.deps, this.loop, this.journal, actor, reason);
  }

  /** "resume deploys" (line-stop.ts). */
  resumeAll(actor: Actor): Promise<LineResult> {
    return resumeLine(this.deps, this.loop, this.journal, actor);
  }

  /** The stop of all deploys, while it holds. */
  lineStop(): Promise<LineStop | undefined> {
    return this.deps.store.lineStop();
  }

  /** Locks a service and environment by hand (e.g. during an incident). */
  async lock(service: string, environment: Environment, actor: Actor, reason: string): Promise<{ ok: boolean; message: string }> {
    const who = actorLabel(actor);
    const may = mayLock(actor, environment, this.deps.config);
    if (!may.ok) {
      await this.journal.audit(undefined, who, 'lock-refused', `${service}/${environment}: ${may.reason}`);
      return { ok: false, message: may.reason };
    }
    const got = await this.deps.store.acquireLock({
      service,
      environment,
      holder: who,
      since: this.deps.clock.now(),
      reason,
      kind: 'manual',
    });
    if (!got.ok) return { ok: false, message: lockedMessage(got.holder, this.wallTime) };
    await this.journal.audit(undefined, who, 'lock', `${service}/${environment}: ${reason}`);
    return { ok: true, message: `${service} in ${environment} is locked by ${labelName(who)}: ${reason}` };
  }

  /**
   * Releases a manual lock or one kept after an automatic rollback; a live run's lock goes with the
   * run. `keptBy`: only the lock that run kept (an Unlock button in its thread; a later lock is not
   * its to lift). Who may is one rule (`mayUnlock`), pressed or typed.
   */
  async unlock(
    service: string,
    environment: Environment,
    actor: Actor,
    reason = '',
    keptBy?: string,
  ): Promise<{ ok: boolean; acted?: boolean; message: string }> {
    const { store, config } = this.deps;
    const who = actorLabel(actor);
    const lock = await store.getLock(service, environment);
    if (!lock) return { ok: true, acted: false, message: `${service} in ${environment} is not locked any more` };
    if (keptBy && lock.runId !== keptBy)
      return { ok: true, acted: false, message: `${service} in ${environment} is no longer held by run ${keptBy}` };
    const run = lock.runId ? await this.loop.live(lock.runId) : undefined;
    if (lock.kind === 'run' && run && !isEnded(run.phase)) {
      return {
        ok: false,
        message: `${service} in ${environment} is held by run ${run.id} (${run.phase.status}); cancel or roll it back instead.`,
      };
    }
    const may = mayUnlock(actor, { ...lock, environment }, run?.requester.userId, config);
    if (!may.ok) {
      await this.journal.audit(lock.runId, who, 'unlock-refused', `${service}/${environment}: ${may.reason}`);
      return { ok: false, message: `You may not unlock ${service} in ${environment}. ${may.reason}` };
    }
    // Only the lock that was read: one taken since (by a queued run, a person) is not this unlock's.
    if (!(await store.releaseLock(lock)))
      return { ok: true, acted: false, message: `${service} in ${environment} changed hands meanwhile; look again` };
    await this.journal.audit(lock.runId, who, 'unlock', `${service}/${environment}${reason ? `: ${reason}` : ''} (was: ${lock.reason})`);
    await this.loop.startNextQueued(service, environment);
    return { ok: true, acted: true, message: `${service} in ${environment} is unlocked` };
  }

  /**
   * Scales down the idle colour a succeeded blue-green run kept for a fast rollback, once the
   * scheduler finds its delay passed: a cluster change like any other, through the driver and
   * into the run's audit trail. Idempotent.
   */
  async retireIdleColour(runId: string): Promise<{ ok: boolean; deployments: string[]; message: string }> {
    const rec = await this.deps.store.getRun(runId);
    if (rec?.strategy !== 'blue-green' || rec.phase.status !== 'succeeded') {
      return { ok: false, deployments: [], message: `run ${runId} is not a succeeded blue-green run` };
    }
    const service = findService(this.deps.config, rec.service);
    const ref = service ? this.loop.ref(service, rec.environment) : undefined;
    const driver = ref ? this.deps.drivers('blue-green', ref) : undefined;
    if (!ref || !driver?.retireIdle)
      return { ok: false, deployments: [], message: `${rec.service} in ${rec.environment} is no longer in the catalogue` };
    const scaled = await driver.retireIdle(ref);
    const message = scaled.length ? `scaled ${scaled.join(', ')} to 0` : 'no idle colour left to scale down';
    await this.journal.audit(rec.id, 'shipbot', 'retire-idle-colour', message);
    return { ok: true, deployments: scaled, message };
  }

  getLock(service: string, environment: Environment): Promise<LockRecord | undefined> {
    return this.deps.store.getLock(service, environment);
  }

  /** The wall-clock moment a moment of this runner's clock was (locks, records): what people read. */
  readonly wallTime = (moment: number): number => wallTime(this.deps.clock, moment);

  /** Every lock held now: runs' own, people's, and those kept after a rollback or a safe stop. */
  locks(): Promise<LockRecord[]> {
    return this.deps.store.listLocks();
  }

  /** The audit trail, with every entry asked for so far written. */
  async auditTrail(runId?: string): Promise<AuditRecord[]> {
    await this.journal.drained();
    return this.deps.store.auditTrail(runId);
  }

  async investigate(runId: string, actor: Actor, audit = true): Promise<Diagnostics> {
    const rec = await this.loop.live(runId);
    if (!rec) throw new Error(`No run ${runId}. \`shipbot runs\` lists them.`);
    // Each press reads pods, events and logs from the cluster (and may ask Claude): bounded per run.
    const now = Date.now();
    const recent = (this.investigations.get(runId) ?? []).filter((t) => now - t < INVESTIGATE_WINDOW_MS);
    if (recent.length >= INVESTIGATE_PER_WINDOW) {
      const wait = Math.ceil((recent[0]! + INVESTIGATE_WINDOW_MS - now) / 1000);
      throw new Error(
        `Investigate already ran ${recent.length} times for this run in the last minute; the answers are in the thread. Try again in ${wait} s`,
      );
    }
    this.investigations.set(runId, [...recent, now]);
    if (audit) await this.journal.audit(rec.id, actorLabel(actor), 'investigate', 'collecting diagnostics');
    const service = findService(this.deps.config, rec.service);
    const ref = service ? this.loop.ref(service, rec.environment) : undefined;
    return collectDiagnostics(rec, ref, {
      store: this.deps.store,
      driver: this.deps.drivers(rec.strategy, ref),
      diagnose: this.deps.diagnose,
    });
  }

  /**
   * At start-up, or on taking the lead from another replica (`why` says which, in the thread):
   * resumes runs that were in flight, or stops them safely saying what to check. A run no step
   * of which has started was not interrupted (a standby recorded it): it is taken up as it is.
   */
  async resumeInFlight(why?: string): Promise<Array<{ runId: string; action: string; note: string }>> {
    const { store, config, clock } = this.deps;
    const out: Array<{ runId: string; action: string; note: string }> = [];
    const live = (
      await store.listRuns({ status: ['pending-approval', 'queued', 'running', 'awaiting-decision', 'paused', 'rolling-back'] })
    ).reverse();
    for (const rec of live) {
      if (this.loop.active.has(rec.id)) continue;
      const decision = resumeDecision(rec, Boolean(findService(config, rec.service)));
      if (decision.action === 'none') continue;
      if (decision.action === 'wait' || (decision.action === 'resume' && !rec.steps.some((s) => s.startedAt !== undefined))) {
        this.loop.attach(rec);
        out.push({ runId: rec.id, action: 'wait', note: rec.phase.status });
        continue;
      }
      const at = clock.now();
      const note = decision.action === 'stop' ? `stopped safely: ${decision.reason}` : decision.note;
      const { run, settled } = this.loop.dispatch(rec, { type: 'restarted', decision, at, note: restartNote(Date.now(), note, why) });
      await settled;
      if (decision.action === 'resume') this.loop.attach(run);
      out.push({ runId: rec.id, action: decision.action, note: decision.action === 'stop' ? decision.reason : decision.note });
    }
    return out;
  }

  /**
   * A deliberate stop (SIGTERM from a rollout or an eviction, Ctrl-C): like close(), and each
   * interrupted run is marked, so resuming it does not count against its resume budget. The
   * budget is a guard against a step that crashes Shipbot, and a restart is not a run's fault.
   */
  async shutdown(): Promise<void> {
    const at = this.deps.clock.now();
    const interrupted = [...this.loop.active.values()]
      .map((a) => a.rec)
      .filter((rec) => !isEnded(rec.phase) && !WAITING.has(rec.phase.status));
    await this.close();
    for (const rec of interrupted) {
      try {
        this.loop.dispatch(rec, { type: 'clean-stop', at });
      } catch (err) {
        this.deps.logger.warn(
          { err, runId: rec.id },
          'could not mark the run as stopped on purpose; its resume will count as an interruption',
        );
      }
    }
  }

  /** Stops driving runs without changing their records: what a crash would leave, minus the crash. */
  async close(): Promise<void> {
    await this.loop.close();
    this.journal.clear();
  }
}

export { defaultRef, toView } from './view.js';
export { lockedMessage } from './messages.js';
export { isStoreBusy } from '../store/store.js';
