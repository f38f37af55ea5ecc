// What front ends (Slack, terminal, local workspace) see of the runner. They never touch the
// cluster: they start runs, send commands and subscribe to events.
import type { ChannelRef } from './permissions.js';
import type { Actor, Decision, DeployPlan, DeployRequest, Environment, RollbackVerification } from './types.js';

export const STEP_STATUSES = ['pending', 'running', 'done', 'failed', 'warning', 'skipped'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export interface StepView {
  key: string;
  title: string;
  status: StepStatus;
  /** Short detail line, e.g. `canary 25% — error 0.3% vs 0.2% baseline`. */
  detail?: string;
  startedAt?: number;
  endedAt?: number;
}

export const RUN_STATUSES = [
  'pending-approval', // high-risk production deploy waiting for a second person
  'queued', // waiting for the service lock
  'running',
  'awaiting-decision', // a person must Rollback / Accept / Investigate
  'paused',
  'rolling-back',
  'succeeded',
  'rolled-back',
  'failed',
  'cancelled',
  'stopped', // stopped safely after a restart; detail says what to check
] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];
export const FINAL_STATUSES: ReadonlySet<RunStatus> = new Set(['succeeded', 'rolled-back', 'failed', 'cancelled', 'stopped']);

/** Where a run came from, so a front end can find its thread again after a restart. */
export type RunOrigin =
  | { kind: 'slack'; channel: string; threadTs: string; progressTs?: string }
  | { kind: 'terminal' }
  | { kind: 'schedule'; scheduleId: string };

/** "stop all deploys <reason>": an incident commander halts every run and new deploys. */
export interface LineStop {
  /** Actor label: "ivan (U_IC)". */
  by: string;
  reason: string;
  at: number;
}

/** A rollback, from the moment it was decided: why, by whom, and how it left traffic once verified. */
export interface RollbackFacts {
  reason: string;
  /** Actor label, or `shipbot` for an automatic one. */
  by: string;
  at: number;
  automatic: boolean;
  verification?: RollbackVerification;
}

export type EndStatus = 'succeeded' | 'rolled-back' | 'failed' | 'cancelled' | 'stopped';

/**
 * Where a run is, with exactly the facts that exist there (the shape Argo Rollouts gives its
 * status): a question exists only while a person is asked, an outcome only once it ended.
 */
export type RunPhase =
  /** A high-risk production deploy waiting for a second person. */
  | { status: 'pending-approval' }
  /** Waiting for the service lock: the run or person holding it. */
  | { status: 'queued'; behind: string }
  | { status: 'running' }
  /** Held between steps by a person (`by`), or by "stop all deploys" (`lineStop`). */
  | { status: 'paused'; by: string; lineStop?: LineStop }
  /** A person must Rollback / Accept / Investigate. */
  | { status: 'awaiting-decision'; decision: Decision }
  | { status: 'rolling-back'; rollback: RollbackFacts }
  | {
      status: EndStatus;
      /** Why it ended, in one line. */
      outcome: string;
      /** Present when it rolled back (or a rollback was tried). */
      rollback?: RollbackFacts;
      /** Present when the run ended keeping its service locked (a production rollback, a safe stop): why. */
      keptLock?: string;
      /** The reports written when it ended (absent when writing failed); the stakeholder summary follows once the lock is released. */
      report?: { path: string; incident?: string; summary?: string };
    };

export type EndedPhase = Extract<RunPhase, { status: EndStatus }>;

export function isEnded(phase: RunPhase): phase is EndedPhase {
  return FINAL_STATUSES.has(phase.status);
}

/** The question a person is asked, while one is. */
export function pendingDecision(run: { phase: RunPhase }): Decision | undefined {
  return run.phase.status === 'awaiting-decision' ? run.phase.decision : undefined;
}

/** The finding that marks a question as a workload waiting at a pause for a person (not a regression). */
export const PAUSE_RULE = 'rollout pause';

/** The run waits at the workload's own pause (an Argo Rollouts pause without duration): Accept promotes it. */
export function waitsAtPause(decision: Decision | undefined): boolean {
  return Boolean(decision?.findings.some((f) => f.rule === PAUSE_RULE));
}

/** Why the run ended, once it has. */
export function outcomeOf(run: { phase: RunPhase }): string | undefined {
  return isEnded(run.phase) ? run.phase.outcome : undefined;
}

/** The run's rollback, from the moment one began. */
export function rollbackOf(run: { phase: RunPhase }): RollbackFacts | undefined {
  return run.phase.status === 'rolling-back' || isEnded(run.phase) ? run.phase.rollback : undefined;
}

/** Why the ended run kept its service locked, if it did. */
export function keptLockOf(run: { phase: RunPhase }): string | undefined {
  return isEnded(run.phase) ? run.phase.keptLock : undefined;
}

/** The ended run's report files, once written. */
export function reportOf(run: { phase: RunPhase }): EndedPhase['report'] {
  return isEnded(run.phase) ? run.phase.report : undefined;
}

/** The ended run's report file, once written. */
export function reportPathOf(run: { phase: RunPhase }): string | undefined {
  return reportOf(run)?.path;
}

/** The report as people see it named in a message: its file name, never a path on Shipbot's disk. */
export function reportName(run: { phase: RunPhase }): string | undefined {
  return reportOf(run)?.path.split(/[/\\]/).at(-1);
}

export interface RunView {
  id: string;
  service: string;
  environment: Environment;
  version: string;
  strategy: DeployPlan['strategy'];
  plan: DeployPlan;
  /** Where the run is, and the facts of that phase. */
  phase: RunPhase;
  requester: Actor;
  origin: RunOrigin;
  steps: StepView[];
  /** The current stage in one line, e.g. `canary 25% — error 0.3% vs 0.2% baseline`. */
  stage?: string;
  /** Each time a restarted Shipbot picked the run up, e.g. "Shipbot restarted at 08:25 UTC; resuming at \"canary 25%\"". */
  restarts: Array<{ at: number; note: string }>;
  createdAt: number;
  updatedAt: number;
}

export const RUN_COMMANDS = ['rollback', 'accept', 'investigate', 'cancel', 'pause', 'resume', 'promote', 'approve'] as const;
export type RunCommand = (typeof RUN_COMMANDS)[number];

export type CommandResult =
  | { ok: true; message: string /** false when the same command already acted */; acted: boolean }
  | { ok: false; reason: 'forbidden' | 'invalid-state' | 'not-found'; message: string };

export type StartResult =
  | { ok: true; run: RunView }
  | { ok: false; reason: 'locked' | 'frozen' | 'invalid' | 'forbidden'; message: string };

export interface StartInput {
  request: DeployRequest;
  plan: DeployPlan;
  requester: Actor;
  origin: RunOrigin;
  /** Queue behind the current holder of the service lock instead of refusing. */
  queueIfLocked?: boolean;
  /** Idempotency key (e.g. Slack channel + message ts): the same key starts one run. */
  dedupeKey?: string;
  /** Start inside a freeze window: only an incident commander may; recorded in the audit trail. */
  freezeOverride?: { actor: Actor; reason: string };
  /** Where it was asked (a Slack channel): deploy roles may name channels. Admission checks it. */
  channel?: ChannelRef;
}

export type RunEvent =
  | { type: 'run-updated'; run: RunView /** important changes go first through Slack's rate limits */; important: boolean }
  | { type: 'audit'; runId: string; actor: string; action: string; detail: string; at: number }
  /** The database stayed unwritable: the run is held (no further cluster change); the process should say so and exit non-zero. */
  | { type: 'store-failed'; runId: string; message: string };

/** Diagnostics collected for Investigate: raw facts, then (optionally) Claude's summary. */
export interface Diagnostics {
  runId: string;
  pods: Array<{ name: string; phase: string; ready: boolean; restarts: number; reason?: string; version?: string }>;
  events: Array<{ at: string; reason: string; message: string; object: string }>;
  metrics: Array<{ metric: string; candidate: string; baseline: string; delta: string }>;
  failingChecks: string[];
  logTail: string[];
  /** The last decision's findings (staging gate or production), with their verdicts. */
  findings?: Decision['findings'];
  /** Set when `pods`, `events` and `logTail` are as they were at the decision (Shipbot read them then). */
  podsAt?: { at: number; environment: Environment };
  /** The pods as they are now, beside those at the decision. */
  podsNow?: Diagnostics['pods'];
  /** Whether the lock this run kept still holds its service now (someone may have unlocked it since). */
  stillLocked?: boolean;
  summary?: string;
}
