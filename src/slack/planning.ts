// Between a request and a run, in Slack's terms: what to recommend in the first reply, what the
// modal shows, and the plan its answers make. The rules themselves are in src/domain.
import { findService, type ShipbotConfig } from '../config.js';
import { buildPlan, PlanError, riskDefaults, validatePlanAnswers, type PlanAnswers } from '../domain/plan.js';
import { recommendStrategy } from '../domain/recommend.js';
import { DeployRequest, STRATEGIES, Version, type DeployPlan, type RiskLevel } from '../domain/types.js';
import type { ModalAnswers, ModalInput, ModalMetadata } from './blocks/modal.js';
import type { Recommendation } from './blocks/request.js';

export function recommend(request: DeployRequest, cfg: ShipbotConfig): Recommendation | undefined {
  const service = request.service ? findService(cfg, request.service) : undefined;
  if (!service) return undefined;
  const rec = recommendStrategy(request, service, cfg);
  return { strategy: rec.strategy, rationale: [rec.rationale, ...rec.warnings].join(' ') };
}

/** The plan for Start without the modal: the request plus risk-based defaults. */
export function planFromRequest(
  request: DeployRequest,
  cfg: ShipbotConfig,
): { ok: true; plan: DeployPlan } | { ok: false; message: string } {
  const service = request.service ? findService(cfg, request.service) : undefined;
  if (!service)
    return {
      ok: false,
      message: `I don't know the service '${request.service ?? '?'}'. Known: ${cfg.services.map((s) => s.name).join(', ')}.`,
    };
  try {
    return { ok: true, plan: buildPlan({ ...request, service: service.name }, service, cfg) };
  } catch (err) {
    if (err instanceof PlanError) return { ok: false, message: err.message };
    throw err;
  }
}

function answersFromPlan(plan: DeployPlan): ModalAnswers {
  return {
    service: plan.service,
    version: plan.version,
    strategy: plan.strategy,
    risk: plan.risk,
    errorRatePct: plan.slo.errorRatePct,
    p99Ms: plan.slo.p99Ms,
    availabilityPct: plan.slo.availabilityPct,
    dbMigration: plan.dbMigration,
    rollbackTolerance: plan.rollbackTolerance,
    observationMin: Math.round((plan.observationSec / 60) * 100) / 100,
    regressionThresholdPct: plan.regressionThresholdPct,
    rollbackOnRegression: plan.rollbackOnRegression,
    guidance: plan.guidance,
  };
}

/** Everything the modal needs, pre-filled from the request and the risk-based defaults. */
export function modalFor(
  request: DeployRequest,
  cfg: ShipbotConfig,
  where: Pick<ModalMetadata, 'channel' | 'threadTs' | 'replyTs'>,
): ModalInput {
  const service = request.service ? findService(cfg, request.service) : undefined;
  const ask = [...(service ? [] : (['service'] as const)), ...(request.version ? [] : (['version'] as const))];
  let answers: ModalAnswers;
  let rationale = '';
  if (service && request.version) {
    const plan = buildPlan({ ...request, service: service.name }, service, cfg);
    answers = answersFromPlan(plan);
    rationale = plan.rationale;
  } else {
    // Not enough to plan yet: the defaults for the risk, and what the request did say.
    const risk = request.risk ?? cfg.defaults.risk;
    const d = riskDefaults(risk, cfg);
    const slo = service?.slo ?? cfg.defaults.slo;
    answers = {
      service: service?.name,
      version: request.version,
      strategy: request.strategy ?? (service ? recommendStrategy(request, service, cfg).strategy : cfg.defaults.strategy),
      risk,
      errorRatePct: slo.errorRatePct,
      p99Ms: slo.p99Ms,
      availabilityPct: slo.availabilityPct,
      dbMigration: request.dbMigration ?? false,
      rollbackTolerance: d.rollbackTolerance,
      observationMin: d.observationMin,
      regressionThresholdPct: request.regressionThresholdPct ?? d.regressionThresholdPct,
      rollbackOnRegression: request.rollbackOnRegression ?? cfg.defaults.rollbackOnRegression,
      guidance: request.guidance ?? '',
    };
  }
  const { guidance: _g, ...rest } = request;
  return {
    answers,
    strategies: service?.strategies ?? STRATEGIES,
    services: cfg.services.map((s) => s.name),
    metadata: { ...where, request: rest, ask, rationale },
  };
}

/** The dependent defaults after the risk level changed in the modal; other answers are kept. */
export function withRisk(answers: ModalAnswers, risk: RiskLevel, cfg: ShipbotConfig): ModalAnswers {
  const d = riskDefaults(risk, cfg);
  return {
    ...answers,
    risk,
    observationMin: d.observationMin,
    regressionThresholdPct: d.regressionThresholdPct,
    rollbackTolerance: answers.strategy === 'blue-green' ? 'instant' : d.rollbackTolerance,
  };
}

/** Current answers from the modal's fields, falling back to `base` for anything not shown. */
export function answersFromFields(f: Record<string, string | undefined>, base: ModalAnswers): ModalAnswers {
  const n = (v: string | undefined, d: number) => (v !== undefined && v !== '' && Number.isFinite(Number(v)) ? Number(v) : d);
  return {
    service: f.service ?? base.service,
    version: f.version ?? base.version,
    strategy: (f.strategy as ModalAnswers['strategy']) ?? base.strategy,
    risk: (f.risk as RiskLevel) ?? base.risk,
    errorRatePct: n(f.errorRatePct, base.errorRatePct),
    p99Ms: n(f.p99Ms, base.p99Ms),
    availabilityPct: n(f.availabilityPct, base.availabilityPct),
    dbMigration: f.dbMigration === undefined ? base.dbMigration : f.dbMigration === 'yes',
    rollbackTolerance: (f.rollbackTolerance as ModalAnswers['rollbackTolerance']) ?? base.rollbackTolerance,
    observationMin: n(f.observationMin, base.observationMin),
    regressionThresholdPct: n(f.regressionThresholdPct, base.regressionThresholdPct),
    rollbackOnRegression: f.rollbackOnRegression === undefined ? base.rollbackOnRegression : f.rollbackOnRegression === 'yes',
    guidance: f.guidance ?? base.guidance,
  };
}

export type PlanFromModal = { ok: true; request: DeployRequest; plan: DeployPlan } | { ok: false; errors: Record<string, string> };

/** The modal's answers → the plan to run, or an error per field (shown inline under it). */
export function planFromModal(f: Record<string, string | undefined>, meta: ModalMetadata, cfg: ShipbotConfig): PlanFromModal {
  const parsed = DeployRequest.safeParse(meta.request);
  if (!parsed.success) return { ok: false, errors: { guidance: 'This form is from an older Shipbot; close it and ask again.' } };
  const request: DeployRequest = { ...parsed.data, guidance: f.guidance || undefined, missing: [] };
  const errors: Record<string, string> = {};
  const service = findService(cfg, f.service ?? request.service ?? '');
  if (!service) errors.service = `Choose a service: ${cfg.services.map((s) => s.name).join(', ')}.`;
  const version = f.version ?? request.version;
  if (!version) errors.version = 'Give the version (image tag) to deploy, e.g. v1.2.3.';
  else if (!Version.safeParse(version).success)
    errors.version = `'${version}' is not an image tag: use letters, digits, '.', '_' and '-' (at most 128).`;
  if (!service || errors.version) return { ok: false, errors };
  const full: DeployRequest = { ...request, service: service.name, version };
  let base: DeployPlan;
  try {
    base = buildPlan(full, service, cfg);
  } catch (err) {
    if (err instanceof PlanError) return { ok: false, errors: { [err.missing[0] ?? 'strategy']: err.message } };
    throw err;
  }
  const answers: PlanAnswers = {
    strategy: f.strategy,
    risk: f.risk,
    errorRatePct: f.errorRatePct,
    p99Ms: f.p99Ms,
    availabilityPct: f.availabilityPct,
    dbMigration: f.dbMigration,
    rollbackTolerance: f.rollbackTolerance,
    observationMin: f.observationMin,
    regressionThresholdPct: f.regressionThresholdPct,
    rollbackOnRegression: f.rollbackOnRegression,
    guidance: f.guidance,
  };
  const result = validatePlanAnswers(answers, base, service, cfg);
  if ('errors' in result) return { ok: false, errors: result.errors as Record<string, string> };
  return { ok: true, request: full, plan: result.plan };
}
