// Pure rules of the runner: whether a command is valid in a run's state, and whether a run found
// in flight at start-up may resume. Role checks live in src/domain/permissions.ts; this file only
// says what a command means for a run in a given state.
import type { RunRecord } from '../store/records.js';
import { clusterTouched, isStageStep, nextStep, STEP } from './steps.js';
import { FINAL_STATUSES, type RunCommand, type RunStatus } from '../domain/run.js';
import { labelName } from '../domain/text.js';

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
  const s = run.status;
  const ended = FINAL_STATUSES.has(s);
  switch (cmd) {
    case 'investigate':
      return { kind: 'act', note: 'collecting diagnostics' };
    case 'approve':
      if (s === 'pending-approval') return { kind: 'act', to: 'running', note: 'approved' };
      if (run.data.approvals?.length) return { kind: 'noop', note: `already approved by ${run.data.approvals[0]!.by}` };
      return { kind: 'refuse', note: `run ${run.id} does not need an approval (it is ${s})` };
    case 'rollback':
      if (s === 'rolling-back' || s === 'rolled-back' || run.data.rollback) return { kind: 'noop', note: rollbackDone(run) };
      if (s === 'running' || s === 'awaiting-decision' || s === 'paused') return { kind: 'act', to: 'rolling-back', note: 'rolling back' };
      if ((s === 'stopped' || s === 'failed') && clusterTouched(run)) return { kind: 'act', to: 'rolling-back', note: 'rolling back' };
      if (s === 'succeeded') return { kind: 'refuse', note: `run ${run.id} already succeeded; deploy the previous version to go back` };
      return { kind: 'refuse', note: `run ${run.id} is ${s}: there is nothing to roll back` };
    case 'accept':
      if (s === 'awaiting-decision') return { kind: 'act', to: 'running', note: 'accepted; continuing' };
      if (run.data.accepted) return { kind: 'noop', note: `already accepted by ${run.data.accepted.by}` };
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
  if (FINAL_STATUSES.has(run.status)) return { action: 'none' };
  if (run.status === 'pending-approval' || run.status === 'queued' || run.status === 'awaiting-decision' || run.status === 'paused') {
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
  if (!run.targets.main.rollout && key && (isStageStep(key) || key === STEP.smoke || key === STEP.gate || key === STEP.promote)) {
    return {
      action: 'stop',
      reason: `the rollout state of this run was lost, so Shipbot cannot tell which image to go back to; check ${where}, then Rollback or unlock`,
    };
  }
  if (run.status === 'rolling-back' && !run.targets.main.rollout && clusterTouched(run)) {
    return {
      action: 'stop',
      reason: `the run was rolling back without a saved rollout state; check that ${where} runs the previous version, then unlock`,
    };
  }
  return { action: 'resume', ...(key ? { step: key } : {}), note: key ? `resuming at "${step!.title}"` : 'finishing' };
}

/** A second Rollback (a double press, a stale message) is told who did it: "already rolled back by ivan". */
function rollbackDone(run: RunRecord): string {
  const rb = run.data.rollback;
  // Names, not ids: an actor label is "name (U123)".
  const who = rb ? (rb.automatic ? 'Shipbot, automatically' : labelName(rb.by)) : undefined;
  const by = who ? ` by ${who}` : '';
  return run.status === 'rolled-back' ? `already rolled back${by}` : `already rolling back (started${by || ' earlier'})`;
}
