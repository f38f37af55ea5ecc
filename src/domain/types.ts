// Shared vocabulary of Shipbot. Pure types and zod schemas only: no I/O here.
import { z } from 'zod';

export const STRATEGIES = ['blue-green', 'canary', 'rolling'] as const;
export const Strategy = z.enum(STRATEGIES);
export type Strategy = z.infer<typeof Strategy>;

export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export const RiskLevel = z.enum(RISK_LEVELS);
export type RiskLevel = z.infer<typeof RiskLevel>;

export const ENVIRONMENTS = ['staging', 'production'] as const;
export const Environment = z.enum(ENVIRONMENTS);
export type Environment = z.infer<typeof Environment>;

export const FOCUS_AREAS = ['security', 'performance', 'compliance'] as const;
export const Focus = z.enum(FOCUS_AREAS);
export type Focus = z.infer<typeof Focus>;

export const TIMELINES = ['normal', 'tight', 'urgent', 'hotfix'] as const;
export const Timeline = z.enum(TIMELINES);
export type Timeline = z.infer<typeof Timeline>;

/** How fast a person wants to be able to get back to the old version. */
export const ROLLBACK_TOLERANCES = ['instant', 'minutes', 'manual'] as const;
export const RollbackTolerance = z.enum(ROLLBACK_TOLERANCES);
export type RollbackTolerance = z.infer<typeof RollbackTolerance>;

/**
 * An image tag or version. Nothing else ever reaches an image reference:
 * letters, digits, `.`, `_`, `-`, at most 128 characters, not starting with `.` or `-`.
 */
export { VERSION_PATTERN } from './image-ref.js';
import { VERSION_PATTERN } from './image-ref.js';
export const Version = z
  .string()
  .regex(VERSION_PATTERN, 'must be an image tag (1–128 characters of A-Z a-z 0-9 . _ -) or a sha256: digest');

/** A service name as it appears in the catalogue (a Kubernetes DNS label). */
export const ServiceName = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a DNS label (a-z, 0-9, -)');

/** Percentages of traffic for canary stages, ascending, ending at 100. */
export const CanarySteps = z
  .array(z.number().int().min(1).max(100))
  .min(1)
  .refine((s) => s.every((v, i) => i === 0 || v > s[i - 1]!), 'steps must increase')
  .refine((s) => s[s.length - 1] === 100, 'the last step must be 100');

/** What the rule parser (or Claude, as a proposal) understood from a deploy request. */
export const DeployRequest = z.object({
  intent: z.literal('deploy'),
  service: ServiceName.optional(),
  version: Version.optional(),
  environment: Environment.default('production'),
  strategy: Strategy.optional(),
  canarySteps: CanarySteps.optional(),
  risk: RiskLevel.optional(),
  dbMigration: z.boolean().optional(),
  guidance: z.string().max(2000).optional(),
  interactive: z.boolean().optional(),
  regressionThresholdPct: z.number().min(0).max(100).optional(),
  rollbackOnRegression: z.boolean().optional(),
  focus: z.array(Focus).default([]),
  timeline: Timeline.optional(),
  /** ISO timestamp when the person asked for a scheduled deploy (`at 02:00`). */
  scheduledAt: z.string().optional(),
  /** What the request lacks and Slack must ask for; never guessed. */
  missing: z.array(z.enum(['service', 'version'])).default([]),
  /** Words the parser could not map to a catalogue service, for "did you mean". */
  unknownService: z.string().optional(),
  suggestions: z.array(z.string()).default([]),
  /** Short notes on what was inferred and why (guidance keywords etc.). */
  notes: z.array(z.string()).default([]),
});
export type DeployRequest = z.infer<typeof DeployRequest>;

export type ParsedCommand =
  | DeployRequest
  | { intent: 'rollback'; service?: string; environment: Environment }
  | { intent: 'status'; service?: string }
  | { intent: 'cancel'; service?: string }
  | { intent: 'lock'; service?: string; environment: Environment; reason?: string }
  | { intent: 'unlock'; service?: string; environment: Environment }
  | { intent: 'help' }
  /** An incident commander stops every run in flight and new deploys: "stop all deploys <reason>". */
  | { intent: 'stop-all'; reason: string }
  | { intent: 'resume-all' };

/** Result of parsing chat text: a command, or a readable reason why it is not one. */
export type ParseResult = { ok: true; command: ParsedCommand } | { ok: false; reason: string };

export interface SloTargets {
  /** Maximum error rate, percent of requests (e.g. 1 = 1%). */
  errorRatePct: number;
  /** Maximum p99 latency in milliseconds. */
  p99Ms: number;
  /** Minimum availability, percent (e.g. 99.9). */
  availabilityPct: number;
}

/** The answers to the six questions plus derived settings: what a run executes. */
export const DeployPlan = z.object({
  service: ServiceName,
  version: Version,
  environment: Environment,
  strategy: Strategy,
  risk: RiskLevel,
  slo: z.object({
    errorRatePct: z.number().min(0).max(100),
    p99Ms: z.number().positive(),
    availabilityPct: z.number().min(0).max(100),
  }),
  dbMigration: z.boolean(),
  rollbackTolerance: RollbackTolerance,
  /** Observation period after full rollout, in seconds (of the run's clock). */
  observationSec: z.number().int().min(0),
  /** How long each canary stage is held, in seconds. */
  stageWindowSec: z.number().int().min(0),
  /** Sampling interval while monitoring, in seconds. */
  monitoringIntervalSec: z.number().int().positive(),
  canarySteps: CanarySteps,
  regressionThresholdPct: z.number().min(0).max(100),
  rollbackOnRegression: z.boolean(),
  guidance: z.string().max(2000).default(''),
  focus: z.array(Focus).default([]),
  /** Why this strategy was recommended or chosen, for people. */
  rationale: z.string().default(''),
});
export type DeployPlan = z.infer<typeof DeployPlan>;

/** A person acting on Shipbot (a Slack user, or the terminal user). */
export interface Actor {
  userId: string;
  /** Slack user-group handles the person belongs to, e.g. `@oncall`. */
  groups?: string[];
  name?: string;
  /**
   * Not a full member of this workspace: a guest (restricted or single-channel), a Slack Connect
   * user of another workspace, or someone Slack could not describe. `*` never covers them for
   * production actions; the config must name them.
   */
  outsider?: 'guest' | 'external' | 'unknown';
}

/** A typed health signal from the cluster during a rollout (decided on in domain/). */
export type InfraSignal =
  | { kind: 'restarts'; pod: string; restarts: number; windowSec: number }
  | { kind: 'oom-killed'; pod: string; container: string }
  | { kind: 'crash-loop'; pod: string; container: string }
  | { kind: 'image-pull'; pod: string; container: string; message: string }
  | { kind: 'readiness'; failing: number; total: number }
  | { kind: 'progress-deadline'; deployment: string; message: string }
  /** The workload's own controller gave the update up (an Argo Rollouts abort: its analysis failed, or a person aborted it). */
  | { kind: 'controller-aborted'; workload: string; message: string };

/** One aggregated metric sample for a set of pods over a window. */
export interface MetricSample {
  /** Virtual time (ms since epoch, the run clock) the window ended at. */
  at: number;
  windowSec: number;
  /**
   * Seconds the numbers really cover, when longer than `windowSec`: Prometheus rates over at
   * least 4 scrapes, so a 30 s sample at a 30 s scrape is the rate of the last 120 s.
   */
  rangeSec?: number;
  requests: number;
  /** Fraction of requests that failed with 5xx, 0..1. */
  errorRate: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  throughputRps: number;
  /**
   * When the source has a latency histogram: how many of the window's requests were slower than
   * each bucket bound (ms, ascending). Lets the judge count requests instead of percentiles.
   */
  slowerThan?: Array<[ms: number, count: number]>;
}

export type Verdict = 'CONTINUE' | 'ROLLBACK' | 'INCONCLUSIVE';

/** A judgment with a one-line explanation a person can read in Slack. */
export interface Decision {
  verdict: Verdict;
  explanation: string;
  /** Each rule that was evaluated, for reports and Investigate. */
  findings: Array<{ rule: string; verdict: Verdict; detail: string }>;
}

/**
 * Which pods to compare: `track` label values for the new version and the baseline. Named by the
 * drivers (src/cluster), read by the metric sources (src/metrics).
 */
export interface TrackRef {
  namespace: string;
  service: string;
  track: string;
  version?: string;
  /** The pods' template hash (an Argo Rollout's ReplicaSet): `{{podHash}}` in a metric query. */
  podHash?: string;
}

/** How a rollback left traffic, as the driver verified it. */
export interface RollbackVerification {
  ok: boolean;
  /** Share of traffic the old version serves (0..100). */
  oldTrafficPct: number;
  detail: string;
}
