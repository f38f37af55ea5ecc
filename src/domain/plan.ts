// A request becomes a plan: risk-based defaults, the service's SLOs and the recommended strategy.
// The modal's answers go through validatePlanAnswers, which says per field what is wrong.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';
import { GENTLE_CANARY_STEPS } from './parse-keywords.js';
import { normaliseSteps } from './parse-steps.js';
import { recommendStrategy } from './recommend.js';
import { atLeast, REGRESSION_THRESHOLD_RANGES, type RiskField, riskFloor, riskLimitProblems } from './risk-policy.js';

export { REGRESSION_THRESHOLD_RANGES } from './risk-policy.js';
import { CONTRACTING_OBSERVATION_FACTOR, contractingMigration } from './migration-policy.js';
import {
  DeployPlan,
  ROLLBACK_TOLERANCES,
  RISK_LEVELS,
  STRATEGIES,
  type DeployRequest,
  type RiskLevel,
  type RollbackTolerance,
  type Strategy,
  type Timeline,
} from './types.js';

/** Allowed regression thresholds per risk, percent: high risk tolerates no regression at all. */
export interface RiskDefaults {
  risk: RiskLevel;
  regressionThresholdPct: number;
  regressionThresholdRange: { min: number; max: number };
  observationMin: number;
  observationSec: number;
  canarySteps: number[];
  stageWindowSec: number;
  monitoringIntervalSec: number;
  rollbackTolerance: RollbackTolerance;
}

/** What a risk level means for a deploy, from shipbot.yml `defaults`. */
export function riskDefaults(risk: RiskLevel, cfg: ShipbotConfig): RiskDefaults {
  const d = cfg.defaults;
  const observationMin = d.observationMin[risk];
  return {
    risk,
    regressionThresholdPct: d.regressionThresholdPct[risk],
    regressionThresholdRange: REGRESSION_THRESHOLD_RANGES[risk],
    observationMin,
    observationSec: Math.round(observationMin * 60),
    // High risk starts smaller and takes more steps; the configured steps are the normal pace.
    canarySteps: risk === 'high' ? [...GENTLE_CANARY_STEPS] : [...d.canarySteps],
    stageWindowSec: d.stageWindowSec,
    monitoringIntervalSec: d.monitoringIntervalSec,
    rollbackTolerance: risk === 'high' ? 'instant' : 'minutes',
  };
}

export class PlanError extends Error {
  constructor(
    message: string,
    readonly missing: Array<'service' | 'version'> = [],
  ) {
    super(message);
    this.name = 'PlanError';
  }
}

/** Shorter waits for tight / urgent / hotfix deploys, except at high risk, where safety wins. */
export function timelineAdjustment(
  timeline: Timeline | undefined,
  risk: RiskLevel,
  current: { observationSec: number; stageWindowSec: number },
): { observationSec: number; stageWindowSec: number; note?: string } {
  if (!timeline || timeline === 'normal') return current;
  if (risk === 'high') {
    return { ...current, note: `Timeline ${timeline}: kept the full high-risk observation and stage windows.` };
  }
  const observationSec = Math.max(300, Math.floor(current.observationSec / 2));
  const stageWindowSec = Math.max(60, Math.floor(current.stageWindowSec / 2));
  return {
    observationSec: Math.min(observationSec, current.observationSec),
    stageWindowSec: Math.min(stageWindowSec, current.stageWindowSec),
    note: `Timeline ${timeline}: halved the observation period and stage windows; SLO checks and the regression gate still apply.`,
  };
}

/** Builds the plan a run executes. Throws PlanError when the request lacks service or version. */
export function buildPlan(request: DeployRequest, service: ServiceConfig, cfg: ShipbotConfig): DeployPlan {
  const missing: Array<'service' | 'version'> = [];
  if (!request.service) missing.push('service');
  if (!request.version) missing.push('version');
  if (missing.length > 0) {
    throw new PlanError(
      `Cannot plan the deploy: the request has no ${missing.join(' and no ')}. Say e.g. \`deploy checkout v1.2.3\`.`,
      missing,
    );
  }
  if (request.service !== service.name) {
    throw new PlanError(`The request is for '${request.service}' but the plan was asked for '${service.name}'.`);
  }
  if (request.environment === 'staging' && !service.environments.staging) {
    throw new PlanError(`${service.name} has no staging environment in shipbot.yml; deploy to production or add one.`);
  }

  const asked = request.risk ?? cfg.defaults.risk;
  const floor = riskFloor(service, request.environment);
  const risk = atLeast(asked, floor);
  const defaults = riskDefaults(risk, cfg);
  const rec = recommendStrategy({ ...request, risk }, service, cfg);
  const notes: string[] = [];
  if (risk !== asked)
    notes.push(`Risk raised from ${asked} to ${risk}: ${service.name} in ${request.environment} is at least ${floor} risk (minRisk).`);
  const threshold = request.regressionThresholdPct ?? defaults.regressionThresholdPct;
  const range = defaults.regressionThresholdRange;
  if (threshold < range.min || threshold > range.max) {
    notes.push(`Regression threshold ${threshold}% is outside the ${risk}-risk range (${rangeText(range)}).`);
  }
  const timing = timelineAdjustment(request.timeline, risk, defaults);
  if (timing.note) notes.push(timing.note);
  const observationSec = contractingMigration(service, request.environment, request.dbMigration ?? false)
    ? timing.observationSec * CONTRACTING_OBSERVATION_FACTOR
    : timing.observationSec;

  return DeployPlan.parse({
    service: service.name,
    version: request.version,
    environment: request.environment,
    strategy: rec.strategy,
    risk,
    slo: { ...(service.slo ?? cfg.defaults.slo) },
    dbMigration: request.dbMigration ?? false,
    rollbackTolerance: rec.strategy === 'blue-green' ? 'instant' : defaults.rollbackTolerance,
    observationSec,
    stageWindowSec: timing.stageWindowSec,
    monitoringIntervalSec: defaults.monitoringIntervalSec,
    canarySteps: request.canarySteps ?? defaults.canarySteps,
    regressionThresholdPct: threshold,
    rollbackOnRegression: request.rollbackOnRegression ?? cfg.defaults.rollbackOnRegression,
    guidance: request.guidance ?? '',
    focus: request.focus,
    rationale: [rec.rationale, ...rec.warnings, ...notes].join(' '),
  });
}

function rangeText(r: { min: number; max: number }): string {
  return r.min === r.max ? `exactly ${r.min}%` : `${r.min}–${r.max}%`;
}

// ---------------------------------------------------------------------------------------------
// The modal

/** Raw answers as Slack's view state gives them: strings, or booleans/arrays from our own callers. */
export interface PlanAnswers {
  strategy?: string;
  risk?: string;
  errorRatePct?: string | number;
  p99Ms?: string | number;
  availabilityPct?: string | number;
  dbMigration?: string | boolean;
  rollbackTolerance?: string;
  observationMin?: string | number;
  regressionThresholdPct?: string | number;
  rollbackOnRegression?: string | boolean;
  canarySteps?: string | number[];
  guidance?: string;
}
export type PlanAnswerField = keyof PlanAnswers;

export type PlanAnswersResult = { plan: DeployPlan } | { errors: Partial<Record<PlanAnswerField, string>> };

const blank = (v: unknown) => v === undefined || v === null || (typeof v === 'string' && v.trim() === '');

function num(v: string | number): number {
  return typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*%?\s*$/.test(v) ? Number(v.replace('%', '')) : NaN;
}

function bool(v: string | boolean): boolean | undefined {
  if (typeof v === 'boolean') return v;
  const k = v.trim().toLowerCase();
  if (['yes', 'y', 'true', 'on', '1'].includes(k)) return true;
  if (['no', 'n', 'false', 'off', '0'].includes(k)) return false;
  return undefined;
}

/**
 * Checks the modal's answers against `base` (the plan the modal was pre-filled from).
 * Blank answers keep the base value, except that a changed risk re-derives its defaults.
 */
export function validatePlanAnswers(answers: PlanAnswers, base: DeployPlan, service: ServiceConfig, cfg: ShipbotConfig): PlanAnswersResult {
  const errors: Partial<Record<PlanAnswerField, string>> = {};
  const a = answers;

  let strategy: Strategy = base.strategy;
  if (!blank(a.strategy)) {
    const s = String(a.strategy).trim().toLowerCase();
    if (!(STRATEGIES as readonly string[]).includes(s)) errors.strategy = `Choose one of ${STRATEGIES.join(', ')}.`;
    else if (!service.strategies.includes(s as Strategy)) {
      errors.strategy = `${service.name} allows only ${service.strategies.join(', ')} (shipbot.yml); choose one of those.`;
    } else strategy = s as Strategy;
  }

  let risk: RiskLevel = base.risk;
  if (!blank(a.risk)) {
    const r = String(a.risk).trim().toLowerCase();
    if (!(RISK_LEVELS as readonly string[]).includes(r)) errors.risk = `Choose low, medium or high.`;
    else risk = r as RiskLevel;
  }
  const riskChanged = risk !== base.risk;
  const defaults = riskDefaults(risk, cfg);

  const percent = (field: PlanAnswerField, v: string | number | undefined, fallback: number, what: string): number => {
    if (blank(v)) return fallback;
    const n = num(v!);
    if (!(n >= 0 && n <= 100)) {
      errors[field] = `${what} must be a number from 0 to 100 (got '${v}').`;
      return fallback;
    }
    return n;
  };
  const errorRatePct = percent('errorRatePct', a.errorRatePct, base.slo.errorRatePct, 'Error-rate target (%)');
  const availabilityPct = percent('availabilityPct', a.availabilityPct, base.slo.availabilityPct, 'Availability target (%)');
  let p99Ms = base.slo.p99Ms;
  if (!blank(a.p99Ms)) {
    const n = num(a.p99Ms!);
    if (!(n > 0 && n <= 600_000)) errors.p99Ms = `p99 latency target must be a positive number of milliseconds (got '${a.p99Ms}').`;
    else p99Ms = n;
  }

  let dbMigration = base.dbMigration;
  if (!blank(a.dbMigration)) {
    const b = bool(a.dbMigration!);
    if (b === undefined) errors.dbMigration = `Answer yes or no.`;
    else dbMigration = b;
  }

  let rollbackTolerance = base.rollbackTolerance;
  if (!blank(a.rollbackTolerance)) {
    const t = String(a.rollbackTolerance).trim().toLowerCase();
    if (!(ROLLBACK_TOLERANCES as readonly string[]).includes(t)) errors.rollbackTolerance = `Choose ${ROLLBACK_TOLERANCES.join(', ')}.`;
    else rollbackTolerance = t as RollbackTolerance;
  }

  let observationSec = riskChanged ? defaults.observationSec : base.observationSec;
  if (!blank(a.observationMin)) {
    const n = num(a.observationMin!);
    if (!(n >= 0 && n <= 24 * 60)) errors.observationMin = `Observation period must be 0 to 1440 minutes (got '${a.observationMin}').`;
    else observationSec = Math.round(n * 60);
  }

  let regressionThresholdPct = riskChanged ? defaults.regressionThresholdPct : base.regressionThresholdPct;
  if (!blank(a.regressionThresholdPct)) {
    const n = num(a.regressionThresholdPct!);
    if (!(n >= 0 && n <= 100))
      errors.regressionThresholdPct = `Regression threshold must be a percentage (got '${a.regressionThresholdPct}').`;
    else regressionThresholdPct = n;
  }

  let rollbackOnRegression = base.rollbackOnRegression;
  if (!blank(a.rollbackOnRegression)) {
    const b = bool(a.rollbackOnRegression!);
    if (b === undefined) errors.rollbackOnRegression = `Answer yes or no.`;
    else rollbackOnRegression = b;
  }

  let canarySteps = riskChanged ? defaults.canarySteps : base.canarySteps;
  if (!blank(a.canarySteps) && strategy === 'canary') {
    const raw = Array.isArray(a.canarySteps) ? a.canarySteps : (String(a.canarySteps).match(/\d+(?:\.\d+)?/g) ?? []).map(Number);
    const parsed = raw.length === 0 ? { ok: false as const, reason: 'Give percentages like 5, 25, 50, 100.' } : normaliseSteps(raw);
    if (!parsed.ok) errors.canarySteps = parsed.reason;
    else canarySteps = parsed.steps;
  }

  const guidance = blank(a.guidance) ? base.guidance : String(a.guidance).trim();
  if (guidance.length > 2000) errors.guidance = `Guidance is ${guidance.length} characters; keep it under 2000.`;

  // The same limits admission holds every plan to, said against the modal's fields.
  const limits = riskLimitProblems({ ...base, risk, regressionThresholdPct, rollbackOnRegression, observationSec }, service, cfg);
  for (const [field, problem] of Object.entries(limits)) errors[field as RiskField] ??= problem;
  if (Object.keys(errors).length > 0) return { errors };

  const rec = recommendStrategy({ strategy, risk, dbMigration, guidance, timeline: undefined }, service, cfg, { rollbackTolerance });
  const rationale =
    strategy === base.strategy && dbMigration === base.dbMigration && !riskChanged
      ? base.rationale
      : [rec.rationale, ...rec.warnings].join(' ');
  const result = DeployPlan.safeParse({
    ...base,
    strategy,
    risk,
    slo: { errorRatePct, p99Ms, availabilityPct },
    dbMigration,
    rollbackTolerance,
    observationSec,
    canarySteps,
    regressionThresholdPct,
    rollbackOnRegression,
    guidance,
    rationale,
  });
  if (!result.success) {
    const out: Record<string, string> = {};
    for (const issue of result.error.issues) out[String(issue.path[0] ?? 'plan')] = issue.message;
    return { errors: out as Partial<Record<PlanAnswerField, string>> };
  }
  return { plan: result.data };
}
