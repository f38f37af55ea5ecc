// What comes next, decided in one place: after a step's verdict or failure (go on, ask a person,
// roll back, fail, end), after a person's command (what it means in the run's state), at the end
// (which final status, whether the lock is kept) and at start-up (resume, wait or stop). Every
// rollback, automatic or pressed, and every question to a person starts here. Pure; the reducer
// (reduce.ts) applies what these say. Role checks live in src/domain/permissions.ts.
import type { Decision, Environment } from '../../domain/types.js';
import { ownTarget, type RunRecord } from '../../store/records.js';
import { clusterTouched, isStageStep, nextStep, ownTouched, rollbackTarget, STEP, type StepOutcome } from './steps.js';
import { type EndStatus, FINAL_STATUSES, rollbackOf, type RunCommand, type RunStatus } from '../../domain/run.js';
import { labelName, truncate } from '../../domain/text.js';

/** The run's course after a step ended. */
export type Move =
  | { kind: 'continue' }
  | { kind: 'ask'; decision: Decision }
  | { kind: 'rollback'; reason: string }
  | { kind: 'fail'; reason: string }
  | { kind: 'end' };

/**
 * After a step: its row (a verdict's row says what the verdict led to) and the move. A breach
 * rolls back by itself unless the plan says a person decides (the staging gate always blocks);
 * an unclear result always asks; a failure rolls back once a cluster changed, else fails; while
 * rolling back, nothing but the end changes the course. An automatic rollback after a migration
 * the previous version cannot run on becomes a question.
 */
export function afterStep(run: RunRecord, outcome: StepOutcome): { row: Pick<StepOutcome, 'status' | 'detail'>; move: Move } {
  const row = { status: outcome.status, ...(outcome.detail !== undefined ? { detail: outcome.detail } : {}) };
  const r = outcome.result;
  if (!r) return { row, move: { kind: 'continue' } };
  if (r.kind === 'finish') return { row, move: { kind: 'end' } };
  if (run.phase.status === 'rolling-back') return { row, move: { kind: 'continue' } };
  if (r.kind === 'ask') return { row, move: { kind: 'ask', decision: r.decision } };
  if (r.kind === 'failed')
    return { row, move: clusterTouched(run) ? automaticRollback(run, r.reason) : { kind: 'fail', reason: r.reason } };
  const d = r.decision;
  if (d.verdict === 'CONTINUE') return { row, move: { kind: 'continue' } };
  // A judged row keeps what it served ("serving 25%: …") before the verdict's explanation.
  const served = /^serving [^:]+: /.exec(outcome.detail ?? '')?.[0] ?? '';
  const judged = { status: d.verdict === 'ROLLBACK' ? ('failed' as const) : ('warning' as const), detail: served + d.explanation };
  if (d.verdict === 'ROLLBACK' && (r.blocks || run.plan.rollbackOnRegression))
    return { row: judged, move: automaticRollback(run, `${r.reason ?? ''}${d.explanation}`) };
  return { row: { ...judged, status: 'warning' }, move: { kind: 'ask', decision: d } };
}

/** A step threw: the same rule as a failure it reported. */
export function afterError(run: RunRecord, message: string): { row: Pick<StepOutcome, 'status' | 'detail'>; move: Move } {
  return afterStep(run, { status: 'failed', detail: message, result: { kind: 'failed', reason: `step failed: ${message}` } });
}

function automaticRollback(run: RunRecord, reason: string): Move {
  const held = rollbackNeedsPerson(run, reason);
  return held ? { kind: 'ask', decision: held } : { kind: 'rollback', reason };
}

/**
 * An automatic rollback where a migration that is not backward compatible has run becomes a
 * question: the person decides, knowing a down-migration is needed. Undefined: roll back as usual.
 */
export function rollbackNeedsPerson(run: RunRecord, reason: string): Decision | undefined {
  const where: Environment = rollbackTarget(run)?.environment ?? run.environment;
  const applied = run.data.migrations?.[where];
  if (!applied || applied.backwardCompatible) return undefined;
  const explanation = `${reason}. Not rolled back by itself: the ${where} migration (Job ${applied.job}) is not backward compatible, so the previous version may not run on the migrated schema. Roll back only with a down-migration ready; or Accept to keep the new version`;
  return { verdict: 'ROLLBACK', explanation, findings: [{ rule: 'migration', verdict: 'ROLLBACK', detail: explanation }] };
}

/** How a run that reached its report ends: rolled back (when verified), failed, or succeeded. */
export function endOf(run: RunRecord): { status: EndStatus; outcome: string } {
  const rb = rollbackOf(run);
  if (!rb) return { status: 'succeeded', outcome: `${run.version} is live in ${run.environment}` };
  return rb.verification?.ok !== false
    ? { status: 'rolled-back', outcome: rb.reason }
    : {
        status: 'failed',
        outcome: `rollback could not be verified (${rb.verification?.detail}); check ${run.service} in ${run.environment} by hand`,
      };
}

/**
 * Why an ending run keeps its service locked, or undefined: only a run that changed its own
 * environment does (Shipit's auto-lock), when it failed, stopped, or rolled back by itself. A
 * release stopped at staging leaves production deployable; a person's rollback frees it.
 */
export function keptLock(run: RunRecord, status: EndStatus, outcome: string): string | undefined {
  const automatic = rollbackOf(run)?.automatic === true;
  if (!ownTouched(run) || !(status === 'stopped' || status === 'failed' || (status === 'rolled-back' && automatic))) return undefined;
  const what = status === 'rolled-back' ? 'an automatic rollback' : status === 'stopped' ? 'a safe stop' : 'a failed deploy';
  return `${what} (run ${run.id}: ${truncate(outcome, 120)})`;
}

/** What a command does to a run, decided from its state alone. */
export type CommandEffect =
  | { kind: 'act'; to?: RunStatus; note: string }
  /** Already done: the same command twice acts once. */
  | { kind: 'noop'; note: string }
  | { kind: 'refuse'; note: string };

/** The role a command needs: `decide` (requester / incident commander), `approve` (a second person), `read`. */
export function roleFor(cmd: RunCommand): 'decide' | 'approve' | 'read' {
  if (cmd === 'approve') return 'approve';
  if (cmd === 'investigate') return 'read';
  return 'decide';
}

export function commandEffect(run: RunRecord, cmd: RunCommand): CommandEffect {
  const s = run.phase.status;
  const ended = FINAL_STATUSES.has(s);
  switch (cmd) {
    case 'investigate':
      return { kind: 'act', note: 'collecting diagnostics' };
    case 'approve':
      if (s === 'pending-approval') return { kind: 'act', to: 'running', note: 'approved' };
      if (run.data.approvals?.length) return { kind: 'noop', note: `already approved by ${run.data.approvals[0]!.by}` };
      return { kind: 'refuse', note: `run ${run.id} does not need an approval (it is ${s})` };
    case 'rollback':
      if (s === 'rolling-back' || s === 'rolled-back' || rollbackOf(run)) return { kind: 'noop', note: rollbackDone(run) };
      if (s === 'running' || s === 'awaiting-decision' || s === 'paused') return { kind: 'act', to: 'rolling-back', note: 'rolling back' };
      if ((s === 'stopped' || s === 'failed') && clusterTouched(run)) return { kind: 'act', to: 'rolling-back', note: 'rolling back' };
      if (s === 'succeeded') return { kind: 'refuse', note: `run ${run.id} already succeeded; deploy the previous version to go back` };
      return { kind: 'refuse', note: `run ${run.id} is ${s}: there is nothing to roll back` };
    case 'accept':
      if (s === 'awaiting-decision') return { kind: 'act', to: 'running', note: 'accepted; continuing' };
      if (run.data.accepted) return { kind: 'noop', note: `already accepted by ${labelName(run.data.accepted.by)}` };
      return { kind: 'refuse', note: `run ${run.id} is ${s}: no decision is waiting` };
    case 'cancel':
      if (s === 'cancelled') return { kind: 'noop', note: 'already cancelled' };
      if (s === 'rolling-back' || s === 'rolled-back') return { kind: 'noop', note: 'already rolling back' };
      if (s === 'pending-approval' || s === 'queued') return { kind: 'act', to: 'cancelled', note: 'cancelled before it started' };
      if (s === 'running' || s === 'paused' || s === 'awaiting-decision') {
        return clusterTouched(run)
          ? { kind: 'act', to: 'rolling-back', note: 'cancelled after the cluster was changed: rolling back' }
          : { kind: 'act', to: 'cancelled', note: 'cancelled before the cluster was changed' };
      }
      return { kind: 'refuse', note: `run ${run.id} already ended (${s})` };
    case 'pause':
      if (s === 'paused') return { kind: 'noop', note: 'already paused' };
      if (s === 'running') return { kind: 'act', to: 'paused', note: 'paused: the current step finishes, the next waits' };
      return { kind: 'refuse', note: `run ${run.id} is ${s}: only a running deployment can be paused` };
    case 'resume':
      if (s === 'paused') return { kind: 'act', to: 'running', note: 'resumed' };
      if (s === 'running') return { kind: 'noop', note: 'already running' };
      return { kind: 'refuse', note: `run ${run.id} is ${s}: only a paused deployment can be resumed` };
    case 'promote': {
      const step = nextStep(run.steps);
      if (s !== 'running' || !step || !(isStageStep(step.key) || step.key === STEP.gate)) {
        return { kind: 'refuse', note: `run ${run.id} is not monitoring a stage right now${ended ? ` (it is ${s})` : ''}` };
      }
      if (run.data.promotedSteps?.includes(step.key)) return { kind: 'noop', note: `already promoted past ${step.title}` };
      return { kind: 'act', note: `skipping the rest of the monitoring window of ${step.title}` };
    }
  }
}

/** What to do at start-up with a run found in the database. */
export type ResumeDecision =
  | { action: 'none' }
  /** Waiting for a person (approval, decision, resume) or the lock: nothing to execute yet. */
  | { action: 'wait' }
  | { action: 'resume'; step?: string; note: string }
  | { action: 'stop'; reason: string };

/** A step interrupted this many times is not retried again: a person looks first. */
export const MAX_RESUMES = 3;

export function resumeDecision(run: RunRecord, serviceKnown: boolean): ResumeDecision {
  const s = run.phase.status;
  if (FINAL_STATUSES.has(s)) return { action: 'none' };
  if (s === 'pending-approval' || s === 'queued' || s === 'awaiting-decision' || s === 'paused') {
    return { action: 'wait' };
  }
  const where = `${run.service} in ${run.environment}`;
  if (!serviceKnown) {
    return { action: 'stop', reason: `service ${run.service} is no longer in the catalogue; check ${where} by hand, then unlock it` };
  }
  const step = nextStep(run.steps);
  const key = step?.key;
  if (key && (run.data.resumes?.[key] ?? 0) >= MAX_RESUMES) {
    return {
      action: 'stop',
      reason: `step "${step!.title}" was interrupted ${MAX_RESUMES} times; check ${where} (images, pods, where traffic goes), then Rollback or unlock`,
    };
  }
  if (!ownTarget(run).rollout && key && (isStageStep(key) || key === STEP.smoke || key === STEP.gate || key === STEP.promote)) {
    return {
      action: 'stop',
      reason: `the rollout state of this run was lost, so Shipbot cannot tell which image to go back to; check ${where}, then Rollback or unlock`,
    };
  }
  if (s === 'rolling-back' && !ownTarget(run).rollout && clusterTouched(run)) {
    return {
      action: 'stop',
      reason: `the run was rolling back without a saved rollout state; check that ${where} runs the previous version, then unlock`,
    };
  }
  return { action: 'resume', ...(key ? { step: key } : {}), note: key ? `resuming at "${step!.title}"` : 'finishing' };
}

/** A second Rollback (a double press, a stale message) is told who did it: "already rolled back by ivan". */
function rollbackDone(run: RunRecord): string {
  const rb = rollbackOf(run);
  // Names, not ids: an actor label is "name (U123)".
  const who = rb ? (rb.automatic ? 'Shipbot, automatically' : labelName(rb.by)) : undefined;
  const by = who ? ` by ${who}` : '';
  return run.phase.status === 'rolled-back' ? `already rolled back${by}` : `already rolling back (started${by || ' earlier'})`;
}
