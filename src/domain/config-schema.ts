// The shape of data/shipbot.yml as zod schemas and the types they infer, with the lookups every
// layer needs. Pure: reading the file and the environment is src/config.ts's.
import { z } from 'zod';
import { CanarySteps, Environment, RiskLevel, ServiceName, Strategy, STRATEGIES } from './types.js';

const Slo = z.strictObject({
  errorRatePct: z.number().min(0).max(100),
  p99Ms: z.number().positive(),
  availabilityPct: z.number().min(0).max(100),
});

const SmokeCheck = z.strictObject({
  name: z.string().min(1),
  /** URL template; `{{baseUrl}}` is where the target (idle colour, canary, service) answers. */
  url: z.string().min(1),
  method: z.enum(['GET', 'HEAD', 'POST']).default('GET'),
  expectStatus: z.number().int().min(100).max(599).default(200),
  expectBody: z.string().optional(),
  timeoutMs: z.number().int().positive().default(2000),
  /** A failing critical check fails the gate; others only warn. */
  critical: z.boolean().default(true),
});
export type SmokeCheck = z.infer<typeof SmokeCheck>;

/**
 * A gate the team runs elsewhere (a security scan, an integration test suite), asked over HTTP as
 * Flagger's webhooks are: a POST with the release; 2xx passes, anything else or no answer blocks.
 */
const HttpCheck = z.strictObject({
  name: z.string().min(1),
  url: z
    .string()
    .url()
    .refine((u) => /^https?:\/\//.test(u), 'an http(s) URL'),
  timeoutMs: z.number().int().positive().default(10_000),
});
export type HttpCheck = z.infer<typeof HttpCheck>;

/**
 * Which firing alerts count against a release: those whose labels include `labels` (values may
 * use {{service}} and {{namespace}}; default: the service's namespace and name), by severity.
 */
const Alerts = z.strictObject({
  labels: z.record(z.string(), z.string()).default({ namespace: '{{namespace}}', service: '{{service}}' }),
  rollbackOn: z.array(z.string().min(1)).default(['critical']),
  askOn: z.array(z.string().min(1)).default(['warning']),
});
export type AlertsConfig = z.infer<typeof Alerts>;

/**
 * A metric the team judges the release on (`services[].gates`): a PromQL template (the metric
 * placeholders), compared with the baseline (`maxDropPct`, `maxRisePct`) and/or absolute (`min`,
 * `max`). Per track when the query selects one ({{track}}, {{version}} or {{podHash}}), else the
 * service before the rollout against now. `perShare`: a count that grows with a track's share of
 * the traffic (active users), compared per share.
 */
const TeamGate = z
  .strictObject({
    name: z.string().min(1).max(60),
    query: z.string().min(1),
    maxDropPct: z.number().positive().max(100).optional(),
    maxRisePct: z.number().positive().optional(),
    min: z.number().optional(),
    max: z.number().optional(),
    /** The range `{{window}}` covers, minutes. */
    windowMin: z
      .number()
      .positive()
      .max(24 * 60)
      .default(5),
    perShare: z.boolean().default(false),
    onBreach: z.enum(['rollback', 'ask']).default('rollback'),
    /**
     * For a ratio (conversions per checkout): its numerator and denominator as counts over
     * `{{window}}`. A drop or rise beyond the rule must then also be significant (one-sided Fisher
     * exact test) to breach; one that is not yet is asked about, never passed.
     */
    counts: z.strictObject({ successes: z.string().min(1), trials: z.string().min(1) }).optional(),
  })
  .refine((g) => [g.maxDropPct, g.maxRisePct, g.min, g.max].some((v) => v !== undefined), {
    message: 'give a rule: maxDropPct or maxRisePct (against the baseline), or min or max (absolute)',
  });
export type TeamGateConfig = z.infer<typeof TeamGate>;

/**
 * CPU and memory of the new version's pods against the previous version's (cAdvisor, through
 * Prometheus), reported GOOD / WARNING / CRITICAL; a limit makes it a gate (over it: rollback).
 */
const Resources = z.strictObject({
  cpuLimitCores: z.number().positive().optional(),
  memoryLimitMiB: z.number().positive().optional(),
});
export type ResourcesConfig = z.infer<typeof Resources>;

/** `preDeploy`: before anything changes (at validation). `prePromotion`: before the release takes all the traffic. */
const Checks = z.strictObject({
  preDeploy: z.array(HttpCheck).default([]),
  prePromotion: z.array(HttpCheck).default([]),
});

/** PromQL templates with {{service}}, {{namespace}}, {{version}}, {{track}}, {{window}} placeholders. */
const MetricQueries = z.strictObject({
  errorRate: z.string().min(1),
  p50Ms: z.string().min(1).optional(),
  p95Ms: z.string().min(1).optional(),
  p99Ms: z.string().min(1),
  throughputRps: z.string().min(1),
  requests: z.string().min(1).optional(),
  /**
   * Request counts per histogram bucket over the window, one series per `le` (seconds), e.g.
   * `sum by (le) (increase(http_request_duration_seconds_bucket{…}[{{window}}]))`: lets the judge
   * count slow requests instead of comparing one p99 per sample.
   */
  latencyBuckets: z.string().min(1).optional(),
});
export type MetricQueries = z.infer<typeof MetricQueries>;

/** DESIGN.md's contract: a Gateway API HTTPRoute or an Istio VirtualService that splits canary traffic. */
const TrafficRouting = z.union([
  z.strictObject({ gatewayAPI: z.strictObject({ httpRoute: ServiceName }) }),
  z.strictObject({ istio: z.strictObject({ virtualService: ServiceName, routes: z.array(z.string().min(1)).optional() }) }),
]);

/** A batch/v1 JobSpec, checked only as far as Shipbot relies on it; the API server checks the rest. */
const JobSpec = z.looseObject({
  template: z.looseObject({
    spec: z.looseObject({ containers: z.array(z.looseObject({ name: z.string().min(1) })).min(1) }),
  }),
});

/** The migration Job run before an environment's rollout (src/runner/migration-step.ts). */
const Migration = z
  .strictObject({
    /** The Job's spec; the release image goes into `container`. */
    job: JobSpec.optional(),
    /** Or an existing Job in the namespace whose spec is cloned. */
    fromJob: ServiceName.optional(),
    /** The container that runs the release image (default: the template's first). */
    container: z.string().min(1).optional(),
    timeoutSec: z.number().int().positive().default(600),
    /** Expand-only: the previous version runs on the migrated schema. false: a rollback needs a person. */
    backwardCompatible: z.boolean({
      error:
        'say whether the migration is expand-only: backwardCompatible: true (the previous version runs on the new schema) or false (a rollback needs a person)',
    }),
    /** Run it on every release, not only when the request says there is a migration. */
    always: z.boolean().default(false),
  })
  .refine((m) => (m.job === undefined) !== (m.fromJob === undefined), {
    message: 'give exactly one of job (a JobSpec) or fromJob (the name of a Job to clone)',
  });
export type MigrationConfig = z.infer<typeof Migration>;

/**
 * A reconciler that owns this environment's objects, and the Git file that names the image
 * (DESIGN: `gitops`). Shipbot suspends the owner, deploys, commits the release, and resumes it.
 */
const Gitops = z
  .strictObject({
    argocd: z.strictObject({ application: ServiceName, namespace: ServiceName.default('argocd') }).optional(),
    flux: z
      .strictObject({
        kustomization: ServiceName.optional(),
        helmRelease: ServiceName.optional(),
        namespace: ServiceName.default('flux-system'),
      })
      .refine((f) => (f.kustomization === undefined) !== (f.helmRelease === undefined), {
        message: 'give exactly one of kustomization or helmRelease',
      })
      .optional(),
    git: z.strictObject({
      url: z.string().min(1),
      branch: z
        .string()
        .regex(/^[A-Za-z0-9._/-]+$/)
        .default('main'),
      /** The file, inside the repository, that names the image. */
      path: z.string().min(1),
    }),
  })
  .refine((g) => (g.argocd === undefined) !== (g.flux === undefined), { message: 'give exactly one owner: argocd or flux' });
export type GitopsConfig = z.infer<typeof Gitops>;

const ServiceEnvironment = z
  .strictObject({
    namespace: ServiceName,
    kind: z.enum(['Deployment', 'Rollout']).optional(),
    /** The stable Deployment; blue-green adds `<deployment>-blue` / `-green`, canary `<deployment>-canary`. */
    deployment: ServiceName.optional(),
    /** An Argo Rollouts Rollout in place of a Deployment: Shipbot drives its steps (src/cluster/argo-rollout.ts). */
    rollout: ServiceName.optional(),
    /** The Service that routes traffic to the workload. */
    service: ServiceName,
    container: z.string().min(1),
    /** Overrides the service-level image repository for this environment. */
    image: z.string().min(1).optional(),
    /** The kubeconfig context of this environment's cluster (default: the current context). */
    context: z.string().min(1).optional(),
    /** Exact canary weights through the team's route (src/cluster/traffic-router.ts); without it, replica ratios. */
    trafficRouting: TrafficRouting.optional(),
    /** This environment's migration Job; overrides the service's. */
    migration: Migration.optional(),
    /** The lowest risk a request may claim for this environment (raises the service's). */
    minRisk: RiskLevel.optional(),
    gitops: Gitops.optional(),
  })
  .refine((e) => (e.deployment === undefined) !== (e.rollout === undefined), {
    message: 'give exactly one workload: deployment (a Deployment) or rollout (an Argo Rollouts Rollout)',
  })
  .refine((e) => !(e.rollout && e.trafficRouting), {
    message: 'a Rollout splits traffic as its own spec says (strategy.canary.trafficRouting): leave trafficRouting out',
  })
  .refine((e) => e.kind === undefined || e.kind === (e.rollout ? 'Rollout' : 'Deployment'), {
    message: 'kind must match the workload key (deployment or rollout); it may be left out',
  })
  // `deployment` is the workload's name whatever its kind, so the cluster code names one field;
  // `kind` says which (a Rollout is driven through its controller, never patched as a Deployment).
  .transform((e) => ({ ...e, kind: e.rollout ? ('Rollout' as const) : ('Deployment' as const), deployment: (e.deployment ?? e.rollout)! }));
export type ServiceEnvironment = z.infer<typeof ServiceEnvironment>;

const ServiceConfig = z.strictObject({
  name: ServiceName,
  aliases: z.array(z.string().min(1)).default([]),
  description: z.string().default(''),
  /** Image repository without tag, e.g. `registry.example.com/shop/checkout`. */
  image: z.string().regex(/^[a-z0-9][a-z0-9._\-/:]*[a-z0-9]$/, 'must be an image repository without tag'),
  strategies: z
    .array(Strategy)
    .min(1)
    .default([...STRATEGIES]),
  /** Stateful services or those without spare capacity are recommended rolling. */
  stateful: z.boolean().default(false),
  spareCapacity: z.boolean().default(true),
  environments: z.object({ staging: ServiceEnvironment.optional(), production: ServiceEnvironment }).strict(),
  smoke: z.array(SmokeCheck).default([]),
  checks: Checks.default({ preDeploy: [], prePromotion: [] }),
  /** Firing alerts as a gate during every monitored window (Alertmanager, or Prometheus's ALERTS). */
  alerts: Alerts.optional(),
  /** The team's own metrics as gates during every monitored window (read from Prometheus). */
  gates: z.array(TeamGate).default([]),
  /** Resource use of the new pods against the stable ones, per monitored window; `{}` reports it, a limit gates on it. */
  resources: Resources.optional(),
  metrics: MetricQueries.optional(),
  slo: Slo.optional(),
  /** The migration Job for every environment (an environment's own `migration` wins). */
  migration: Migration.optional(),
  /** The lowest risk a request may claim: a requester cannot talk a payments deploy down to low. */
  minRisk: RiskLevel.optional(),
});
export type ServiceConfig = z.infer<typeof ServiceConfig>;

/** Slack user ids (`U123`), user-group handles (`@oncall`) or `*` for everyone. */
const Principals = z.array(z.string().min(1));

const FreezeWindow = z.strictObject({
  /** node-cron expression; a minute it matches is inside the freeze. */
  cron: z.string().min(1),
  reason: z.string().min(1),
  environments: z.array(Environment).default(['production']),
  timezone: z.string().optional(),
});
export type FreezeWindow = z.infer<typeof FreezeWindow>;

const Defaults = z.strictObject({
  strategy: Strategy.default('canary'),
  risk: RiskLevel.default('medium'),
  canarySteps: CanarySteps.default([5, 25, 50, 100]),
  monitoringIntervalSec: z.number().int().positive().default(30),
  stageWindowSec: z.number().int().positive().default(300),
  observationMin: z
    .object({ low: z.number().min(0), medium: z.number().min(0), high: z.number().min(0) })
    .default({ low: 15, medium: 30, high: 60 }),
  regressionThresholdPct: z
    .object({ low: z.number().min(0), medium: z.number().min(0), high: z.number().min(0) })
    .default({ low: 5, medium: 2, high: 0 }),
  rollbackOnRegression: z.boolean().default(true),
  blueGreenRetireAfterSec: z.number().int().min(0).default(86_400),
  slo: Slo.default({ errorRatePct: 1, p99Ms: 500, availabilityPct: 99.9 }),
  /** Breach rules: canary against baseline. */
  breach: z
    .object({
      errorRatePts: z.number().min(0).default(2),
      p99IncreasePct: z.number().min(0).default(20),
      throughputDropPct: z.number().min(0).default(30),
      restartsIn5Min: z.number().int().min(0).default(3),
      failingHealthPct: z.number().min(0).max(100).default(50),
    })
    .default({ errorRatePts: 2, p99IncreasePct: 20, throughputDropPct: 30, restartsIn5Min: 3, failingHealthPct: 50 }),
  /** Fewer samples or requests than this is inconclusive, never a pass. */
  minSamples: z.number().int().min(1).default(5),
  minRequests: z.number().int().min(1).default(50),
});
export type Defaults = z.infer<typeof Defaults>;

export const ShipbotConfig = z.strictObject({
  services: z.array(ServiceConfig).min(1),
  /**
   * Who may do what. Without it Shipbot is closed: staging deploys only, and it says so at start
   * and in each refusal (production, locks and others' rollbacks need a role the config names).
   */
  roles: z
    .object({
      deployers: Principals.default(['*']),
      /** May press Rollback / Accept on any run, unlock any lock, stop all deploys. */
      incidentCommanders: Principals.default([]),
      /** Approve high-risk production deploys (never the requester). */
      approvers: Principals.default([]),
      /** The person who started a run may roll it back or accept it. */
      requesterMayDecide: z.boolean().default(true),
    })
    .optional(),
  channels: z
    .object({
      /** Channel ids or names (`#deploys`) where requests are accepted, per environment; `*` = any. */
      deploy: z
        .object({ staging: z.array(z.string()).default(['*']), production: z.array(z.string()).default(['*']) })
        .default({ staging: ['*'], production: ['*'] }),
      stakeholder: z.string().optional(),
    })
    .default({ deploy: { staging: ['*'], production: ['*'] } }),
  /** Which risk levels need a second person's approval in production. */
  approvalRequiredFor: z.array(RiskLevel).default(['high']),
  defaults: Defaults.default(Defaults.parse({})),
  freezeWindows: z.array(FreezeWindow).default([]),
  prometheus: z
    .strictObject({
      /**
       * How often Prometheus scrapes the services (kube-prometheus: 30 s). `{{window}}` is never
       * shorter than 4 of them, since rate() over one interval is empty. Unset: read from
       * Prometheus' targets API, else 30.
       */
      scrapeIntervalSec: z.number().positive().optional(),
    })
    .default({}),
});
export type ShipbotConfig = z.infer<typeof ShipbotConfig>;

/** Every kubeconfig context the catalogue names (undefined: the current context). */
export function contextsOf(cfg: ShipbotConfig): Array<string | undefined> {
  return [...new Set(cfg.services.flatMap((s) => Object.values(s.environments).map((e) => e?.context)))];
}

export function findService(cfg: ShipbotConfig, name: string): ServiceConfig | undefined {
  const key = name.toLowerCase();
  return cfg.services.find((s) => s.name === key || s.aliases.some((a) => a.toLowerCase() === key));
}
