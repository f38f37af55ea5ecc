// The persisted shape of a run: everything in RunView plus what the runner needs to resume.
import type { OwnerSnapshot } from '../cluster/owner-control.js';
import type { PreflightCheck, RolloutState } from '../cluster/types.js';
import type { Actor, Decision, DeployRequest, Environment, MetricSample } from '../domain/types.js';
import type { Diagnostics, RunView } from '../domain/run.js';
import type { TeamGateReading } from '../domain/judge-team.js';
import type { ResourceReading } from '../domain/judge-resources.js';

export type { LineStop } from '../domain/run.js';

/** One smoke check result as the runner keeps it (the metrics module may return more). */
export interface SmokeRecord {
  name: string;
  ok: boolean;
  critical: boolean;
  detail: string;
  /** No answer while Shipbot itself was too busy to tell: a person decides, never an automatic rollback. */
  unclear?: boolean;
}

/** A judgment the runner made or was told, with where and when. */
export interface DecisionRecord {
  step: string;
  at: number;
  decision: Decision;
  /** Clock seconds of monitoring behind it (from the moment traffic reached the new version). */
  watchedSec?: number;
  candidate?: MetricSample;
  baseline?: MetricSample;
  /** What the team's gates read at this decision (`services[].gates`). */
  gates?: TeamGateReading[];
  /** CPU and memory per pod at this decision, graded (`services[].resources`). */
  resources?: ResourceReading[];
}

/**
 * What the runner keeps about one environment it changes on the release's promotion path: the
 * driver's rollout state, and what that environment's version is judged on.
 */
export interface TargetData {
  environment: Environment;
  /** The driver's state once prepare ran (the run's own environment: its strategy; a rehearsal: rolling). */
  rollout?: RolloutState;
  /** The version serving before anything changed: its last sample and the samples behind it. */
  baseline?: MetricSample;
  baselineSamples?: MetricSample[];
  /** The smoke checks against that version before any traffic moved: what `smoke` is compared with. */
  baselineSmoke?: SmokeRecord[];
  /** The new version's last sample once fully rolled out, and its samples then (for "baseline vs after"). */
  after?: MetricSample;
  afterSamples?: MetricSample[];
  smoke?: SmokeRecord[];
  /** Staging: production's live version, sampled before staging changed — the staging gate's reference (metrics and smoke). */
  reference?: { samples: MetricSample[]; smoke?: SmokeRecord[] };
  /** Clock seconds when a step that changes this environment first started: from then on, stopping means rolling back. */
  touchedAt?: number;
  /** What the judge decided about this environment's version, in order. */
  decisions?: DecisionRecord[];
}

/**
 * The promotion path, in order: the environments a release goes through before its own (today
 * staging, where a production service has one), then the run's own environment, always last.
 * Nothing here assumes two: more rehearsals, regions or waves are more entries.
 */
export type Targets = TargetData[];

/** The run's own environment: the last on its path. */
export function ownTarget(run: Pick<RunRecord, 'targets'>): TargetData {
  return run.targets.at(-1)!;
}

/**
 * The furthest target along the path the run changed: where its verdicts, its rollback and its
 * numbers are (staging for a release stopped at its rehearsal); the run's own before any change.
 */
export function reachedTarget(run: Pick<RunRecord, 'targets'>): TargetData {
  return run.targets.findLast((t) => t.touchedAt !== undefined) ?? ownTarget(run);
}

/** The target in `environment`, if the path goes through it. */
export function targetIn(run: Pick<RunRecord, 'targets'>, environment: Environment): TargetData | undefined {
  return run.targets.find((t) => t.environment === environment);
}

/** Every decision of a run in the order made: along the path, a rehearsal's before the release's. */
export function allDecisions(run: Pick<RunRecord, 'targets'>): DecisionRecord[] {
  return run.targets.flatMap((t) => t.decisions ?? []);
}

/** What was checked and granted before anything changed. */
export interface RunAdmission {
  preflight?: PreflightCheck[];
  validation?: Array<{ name: string; ok: boolean; detail: string; severity: 'error' | 'warning' }>;
  approvals?: Array<{ by: string; at: number }>;
  /** An incident commander started this run inside a freeze window. */
  freezeOverride?: { by: string; reason: string; at: number; freeze: string };
  /** Each environment's migration Job for this release: its outcome and the rollback policy it sets. */
  migrations?: Partial<Record<Environment, { job: string; ok: boolean; detail: string; backwardCompatible: boolean; logTail?: string[] }>>;
  /**
   * The exact build the release's first pods pulled (the kubelet's imageID), where it was read:
   * every later environment and step runs `image`, so a tag moved meanwhile never reaches them.
   */
  artifact?: { digest: string; image: string; environment: Environment; at: number };
  /**
   * GitOps: the owner's own sync setting, saved before Shipbot paused it (so a crash can put it
   * back), and the commit that wrote the release to Git.
   */
  gitops?: { owner: string; snapshot: OwnerSnapshot; commit?: { sha: string; committed: boolean } };
}

/** What people and restarts did to the run while it went. */
export interface RunControl {
  /** How many times a step was resumed after a restart (a crash-loop guard). */
  resumes?: Record<string, number>;
  /** Set when Shipbot was stopped on purpose mid-run (Runner.shutdown): that resume is not counted. */
  cleanStopAt?: number;
  /** Person who accepted a regression, and why. */
  accepted?: { by: string; at: number; explanation: string };
  /** Stage steps whose monitoring window a person cut short with Promote. */
  promotedSteps?: string[];
  /** An incident commander resumed this run while the line stayed stopped (the stop's `at`). */
  lineStopWaived?: number;
}

/** What the runner learned along the way, beside its targets; reports are written from it. */
export interface RunData extends RunAdmission, RunControl {
  /** The pods, events and log tails where a decision was made, read as the rollback (or the question) began: Investigate shows them after the pods are gone. */
  atDecision?: { at: number; environment: Environment; pods: Diagnostics['pods']; events: Diagnostics['events']; logTail: string[] };
}

export interface RunRecord extends RunView {
  request: DeployRequest;
  targets: Targets;
  data: RunData;
  dedupeKey?: string;
}

export interface LockRecord {
  service: string;
  environment: string;
  holder: string;
  runId?: string;
  since: number;
  reason: string;
  /** run: held by an active run; manual: a person locked it; held: kept after an automatic rollback or a safe stop. */
  kind: 'run' | 'manual' | 'held';
}

export interface AuditRecord {
  id: number;
  runId?: string;
  at: number;
  actor: string;
  action: string;
  detail: string;
}

export function actorLabel(a: Actor): string {
  return a.name ? `${a.name} (${a.userId})` : a.userId;
}
