// What front ends (Slack, terminal, local workspace) see of the runner. They never touch the
// cluster: they start runs, send commands and subscribe to events.
import type { Actor, Decision, DeployPlan, DeployRequest, Environment } from './types.js';

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

export interface RunView {
  id: string;
  service: string;
  environment: Environment;
  version: string;
  strategy: DeployPlan['strategy'];
  plan: DeployPlan;
  status: RunStatus;
  requester: Actor;
  origin: RunOrigin;
  steps: StepView[];
  /** The current stage in one line, e.g. `canary 25% — error 0.3% vs 0.2% baseline`. */
  stage?: string;
  /** Set while status is awaiting-decision: why a person is asked. */
  pendingDecision?: Decision;
  /** Why the run ended (rolled back, failed, stopped). */
  outcome?: string;
  reportPath?: string;
  /** Each time a restarted Shipbot picked the run up, e.g. "Shipbot restarted at 08:25 UTC; resuming at \"canary 25%\"". */
  restarts?: Array<{ at: number; note: string }>;
  /** Set when the run ended keeping its service locked (a production rollback, a safe stop): why. */
  keptLock?: string;
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
