// The one writer of a run. Everything that happens to a run is an event: a step started, learned
// a fact, ended; a person's command; the lock came free; the line stopped; a restart; the end and
// its reports. `reduce` takes the run and one event and returns the new run and the effects the
// loop must perform (abandon the running step, read the pods, end the run). Phase, steps and
// targets are assigned here and nowhere else; the loop saves the new run before any effect
// touches a cluster. What comes next after a verdict or a command is asked of next-move.ts. Pure.
import type { Stage } from '../../cluster/types.js';
import {
  type EndStatus,
  isEnded,
  type LineStop,
  pendingDecision,
  type RollbackFacts,
  type RunCommand,
  rollbackOf,
  waitsAtPause,
} from '../../domain/run.js';
import { labelName } from '../../domain/text.js';
import type { Actor, Decision, Environment } from '../../domain/types.js';
import { actorLabel, type DecisionRecord, type RunData, type RunRecord, type TargetData } from '../../store/records.js';
import { afterError, afterStep, commandEffect, endOf, type ResumeDecision } from './next-move.js';
import { nextStep, setStep, skipRemaining, STEP, type StepOutcome, touching, withRollbackSteps, withStages } from './steps.js';

type Migration = NonNullable<RunData['migrations']>[Environment];

/** What a step handler learned or did, as it happens (`ctx.commit`). */
export interface RunChange {
  /** Fields of one target on the path to set (the others stay). */
  target?: { environment: Environment; set: Partial<Omit<TargetData, 'environment'>> };
  /** Decisions about one target's version to add, in order. */
  decisions?: { environment: Environment; add: DecisionRecord[] };
  /** The current stage in one line. */
  stage?: string;
  /** The stages the prepared rollout goes through: their step rows are added before promotion. */
  stages?: Stage[];
  preflight?: RunData['preflight'];
  validation?: RunData['validation'];
  migration?: { environment: Environment; record: NonNullable<Migration> };
  /** GitOps facts: the owner's saved setting, then the release's commit. */
  gitops?: RunData['gitops'];
  /** The exact build the release's first pods pulled. */
  artifact?: RunData['artifact'];
  /** How the rollback left traffic (kept with the rollback). */
  verification?: RollbackFacts['verification'];
}

export type ModelEvent =
  | { type: 'step-started'; key: string; at: number }
  | { type: 'learned'; change: RunChange }
  /** The running step's detail line (shown, not saved on its own). */
  | { type: 'progress'; key: string; line: string }
  | { type: 'step-ended'; key: string; outcome: StepOutcome; at: number }
  | { type: 'step-threw'; key: string; message: string; at: number }
  /** A person's command, already found valid for the run's state (next-move.ts commandEffect). */
  | { type: 'command'; cmd: Exclude<RunCommand, 'investigate'>; actor: Actor; at: number; lineStop?: LineStop }
  /** The service lock came free for a queued run. */
  | { type: 'lock-granted'; needsApproval: boolean }
  | { type: 'line-stopped'; stop: LineStop }
  | { type: 'line-resumed'; by: string }
  | { type: 'restarted'; decision: Exclude<ResumeDecision, { action: 'none' | 'wait' }>; at: number; note: string }
  /** Shipbot is being stopped on purpose mid-run: the resume that follows is not counted. */
  | { type: 'clean-stop'; at: number }
  | { type: 'pods-read'; atDecision: NonNullable<RunData['atDecision']> }
  /** The run ends now; `keptLock` says why its service stays locked, if it does. */
  | { type: 'ended'; status: EndStatus; outcome: string; at: number; keptLock?: string }
  | { type: 'reports-written'; at: number; report?: { path: string; incident?: string }; detail: string }
  /** The stakeholder summary, written after the lock was released. */
  | { type: 'summary-written'; summary: string };

export type Effect =
  /** A command took the run over: abandon the running step (its in-flight cluster call may land). */
  | { kind: 'abort-step' }
  /** Read the pods where a decision was made, while they still exist. */
  | { kind: 'read-pods' }
  /** Write the reports, settle the lock, save the final record. */
  | { kind: 'end'; status: EndStatus; outcome: string }
  /** Cut the running monitoring window short (Promote). */
  | { kind: 'skip-window' }
  | { kind: 'audit'; actor: string; action: string; detail: string };

export interface Reduced {
  run: RunRecord;
  effects: Effect[];
  /** Worth telling people at once (Slack's rate limits let important changes go first). */
  important: boolean;
}

export function reduce(run: RunRecord, ev: ModelEvent): Reduced {
  const same = (r: RunRecord, important = false, effects: Effect[] = []): Reduced => ({ run: r, effects, important });
  switch (ev.type) {
    case 'step-started': {
      const cur = run.steps.find((s) => s.key === ev.key);
      return same({
        ...run,
        steps: setStep(run.steps, ev.key, { status: 'running', startedAt: cur?.startedAt ?? ev.at }),
        targets: touching(run.targets, ev.key, ev.at),
        // The status line follows the list: the step now running (a rollback keeps its own line).
        ...(run.phase.status === 'running' && cur ? { stage: cur.title } : {}),
      });
    }
    case 'learned':
      return same(applyChange(run, ev.change));
    case 'progress':
      return same({ ...run, steps: setStep(run.steps, ev.key, { detail: ev.line }) });
    case 'step-ended':
    case 'step-threw': {
      const { row, move } = ev.type === 'step-ended' ? afterStep(run, ev.outcome) : afterError(run, ev.message);
      const ended = { ...run, steps: setStep(run.steps, ev.key, { ...row, endedAt: ev.at }) };
      switch (move.kind) {
        case 'continue':
          return same(ended, row.status === 'failed');
        case 'ask':
          return ask(ended, move.decision);
        case 'rollback':
          return beginRollback(ended, { reason: move.reason, by: 'shipbot', at: ev.at, automatic: true });
        case 'fail':
          return same({ ...ended, steps: skipRemaining(ended.steps, 'not run: an earlier step failed') }, true, [
            { kind: 'end', status: 'failed', outcome: move.reason },
          ]);
        case 'end':
          return same(ended, true, [{ kind: 'end', ...endOf(ended) }]);
      }
      break;
    }
    case 'command':
      return command(run, ev);
    case 'lock-granted':
      return same(
        {
          ...run,
          phase: ev.needsApproval ? { status: 'pending-approval' } : { status: 'running' },
          stage: ev.needsApproval ? 'waiting for an approval' : 'lock acquired',
        },
        true,
        [{ kind: 'audit', actor: 'shipbot', action: 'dequeued', detail: 'the lock was free' }],
      );
    case 'line-stopped':
      return same(
        {
          ...run,
          phase: { status: 'paused', by: ev.stop.by, lineStop: ev.stop },
          stage: `all deploys stopped by ${labelName(ev.stop.by)}: ${ev.stop.reason}`,
        },
        true,
        [{ kind: 'audit', actor: 'shipbot', action: 'line-stopped', detail: `held at a safe point: ${ev.stop.reason}` }],
      );
    case 'line-resumed':
      if (run.phase.status !== 'paused' || !run.phase.lineStop) return same(run);
      return same({ ...run, phase: { status: 'running' }, stage: `resumed by ${labelName(ev.by)}` }, true, [
        { kind: 'audit', actor: ev.by, action: 'resume', detail: 'deploys resumed' },
      ]);
    case 'restarted':
      return restarted(run, ev);
    case 'clean-stop':
      return same({ ...run, data: { ...run.data, cleanStopAt: ev.at } });
    case 'pods-read':
      return same(run.data.atDecision ? run : { ...run, data: { ...run.data, atDecision: ev.atDecision } });
    case 'ended': {
      const rollback = rollbackOf(run);
      return same(
        {
          ...run,
          phase: {
            status: ev.status,
            outcome: ev.outcome,
            ...(rollback ? { rollback } : {}),
            ...(ev.keptLock ? { keptLock: ev.keptLock } : {}),
          },
          // The report shows itself as written; if writing fails the row becomes a warning.
          steps: setStep(run.steps, STEP.report, { status: 'done', startedAt: ev.at, endedAt: ev.at, detail: `${run.id}.md` }),
        },
        true,
      );
    }
    case 'reports-written': {
      const steps = setStep(run.steps, STEP.report, { status: ev.report ? 'done' : 'warning', detail: ev.detail, endedAt: ev.at });
      if (!isEnded(run.phase) || !ev.report) return same({ ...run, steps }, true);
      return same({ ...run, steps, phase: { ...run.phase, report: ev.report } }, true);
    }
    case 'summary-written':
      if (!isEnded(run.phase) || !run.phase.report) return same(run);
      return same({ ...run, phase: { ...run.phase, report: { ...run.phase.report, summary: ev.summary } } });
  }
}

/** A person must decide: the run waits, and the pods are read as they are now. */
function ask(run: RunRecord, decision: Decision): Reduced {
  return {
    run: { ...run, phase: { status: 'awaiting-decision', decision }, stage: decision.explanation },
    effects: [{ kind: 'read-pods' }],
    important: true,
  };
}

/** Rolling back, automatic or pressed: forward steps are skipped and the running one abandoned. */
function beginRollback(run: RunRecord, rollback: RollbackFacts): Reduced {
  if (rollbackOf(run)) return { run, effects: [], important: false };
  const effects: Effect[] = [{ kind: 'read-pods' }, { kind: 'abort-step' }];
  if (rollback.automatic) effects.push({ kind: 'audit', actor: 'shipbot', action: 'automatic-rollback', detail: rollback.reason });
  return {
    run: {
      ...run,
      phase: { status: 'rolling-back', rollback },
      steps: withRollbackSteps(run.steps, rollback.reason),
      // The status line says "Rolling back"; the stage says why.
      stage: rollback.reason,
    },
    effects,
    important: true,
  };
}

function command(run: RunRecord, ev: Extract<ModelEvent, { type: 'command' }>): Reduced {
  const who = actorLabel(ev.actor);
  // People read names; the audit trail keeps the id too.
  const name = ev.actor.name ?? ev.actor.userId;
  const running = (stage: string, data: RunData = run.data): Reduced => ({
    run: { ...run, data, phase: { status: 'running' }, stage },
    effects: [],
    important: true,
  });
  switch (ev.cmd) {
    case 'approve':
      return running(`approved by ${name}`, {
        ...run.data,
        approvals: [...(run.data.approvals ?? []), { by: ev.actor.userId, at: ev.at }],
      });
    case 'accept': {
      // At the Rollout's own pause, Accept is a promote (the next stage sends it), not an accepted regression.
      if (waitsAtPause(pendingDecision(run))) return running(`promoted by ${name}`);
      const explanation = run.phase.status === 'awaiting-decision' ? run.phase.decision.explanation : '';
      return running(`accepted by ${name}`, { ...run.data, accepted: { by: who, at: ev.at, explanation } });
    }
    case 'pause':
      return { run: { ...run, phase: { status: 'paused', by: who }, stage: `paused by ${name}` }, effects: [], important: true };
    case 'resume': {
      const data = ev.lineStop ? { ...run.data, lineStopWaived: ev.lineStop.at } : run.data;
      return running(`resumed by ${name}`, data);
    }
    case 'promote': {
      const step = nextStep(run.steps);
      if (!step) return { run, effects: [], important: false };
      return {
        run: { ...run, data: { ...run.data, promotedSteps: [...(run.data.promotedSteps ?? []), step.key] } },
        effects: [{ kind: 'skip-window' }],
        important: false,
      };
    }
    case 'rollback':
    case 'cancel': {
      // What the command means here is next-move.ts's to say: Cancel after a change rolls back.
      const effect = commandEffect(run, ev.cmd);
      const rollingBack = effect.kind === 'act' && effect.to === 'rolling-back';
      if (rollingBack)
        return beginRollback(run, {
          reason: `${ev.cmd === 'cancel' ? 'cancelled' : 'rollback requested'} by ${name}`,
          by: who,
          at: ev.at,
          automatic: false,
        });
      return {
        run: { ...run, steps: skipRemaining(run.steps, `cancelled by ${name}`) },
        effects: [{ kind: 'abort-step' }, { kind: 'end', status: 'cancelled', outcome: `cancelled by ${name}` }],
        important: true,
      };
    }
  }
}

function restarted(run: RunRecord, ev: Extract<ModelEvent, { type: 'restarted' }>): Reduced {
  const restarts = [...run.restarts, { at: ev.at, note: ev.note }];
  if (ev.decision.action === 'stop') {
    const interrupted = run.steps.find((s) => s.status === 'running');
    const steps = interrupted
      ? setStep(run.steps, interrupted.key, { status: 'failed', detail: 'interrupted by a restart', endedAt: ev.at })
      : run.steps;
    return {
      run: { ...run, restarts, steps: skipRemaining(steps, 'stopped after a restart') },
      effects: [
        { kind: 'audit', actor: 'shipbot', action: 'stop-after-restart', detail: ev.decision.reason },
        { kind: 'end', status: 'stopped', outcome: ev.decision.reason },
      ],
      important: true,
    };
  }
  const { step } = ev.decision;
  // A deliberate stop is not an interruption of the step: the budget counts crashes only.
  const { cleanStopAt, ...data } = run.data;
  const resumes = step && cleanStopAt === undefined ? { ...data.resumes, [step]: (data.resumes?.[step] ?? 0) + 1 } : data.resumes;
  return {
    run: { ...run, restarts, data: { ...data, ...(resumes ? { resumes } : {}) } },
    effects: [{ kind: 'audit', actor: 'shipbot', action: 'resume-after-restart', detail: ev.decision.note }],
    important: true,
  };
}

/** A step's facts, applied: each change to one target keeps the other and what was kept before. */
export function applyChange(run: RunRecord, c: RunChange): RunRecord {
  const { target, decisions } = c;
  // A fact about an environment the path does not hold yet is kept, as a step before the run's own.
  let path = run.targets;
  for (const env of [target?.environment, decisions?.environment])
    if (env && !path.some((t) => t.environment === env)) path = [...path.slice(0, -1), { environment: env }, path.at(-1)!];
  const targets = path.map((t) => {
    let next = t;
    if (target?.environment === t.environment) next = { ...next, ...target.set };
    if (decisions?.environment === t.environment && decisions.add.length)
      next = { ...next, decisions: [...(next.decisions ?? []), ...decisions.add] };
    return next;
  });
  const data: RunData = {
    ...run.data,
    ...(c.preflight ? { preflight: c.preflight } : {}),
    ...(c.validation ? { validation: c.validation } : {}),
    ...(c.gitops ? { gitops: c.gitops } : {}),
    ...(c.artifact && !run.data.artifact ? { artifact: c.artifact } : {}),
    ...(c.migration ? { migrations: { ...run.data.migrations, [c.migration.environment]: c.migration.record } } : {}),
  };
  const phase =
    c.verification && run.phase.status === 'rolling-back'
      ? { ...run.phase, rollback: { ...run.phase.rollback, verification: c.verification } }
      : run.phase;
  return {
    ...run,
    targets,
    data,
    phase,
    ...(c.stage !== undefined ? { stage: c.stage } : {}),
    ...(c.stages ? { steps: withStages(run.steps, c.stages) } : {}),
  };
}
