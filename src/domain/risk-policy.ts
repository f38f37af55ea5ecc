// The limits a plan must keep whatever way it was made (chat, the terminal, the modal, guidance,
// Claude): the requester cannot talk a service below its risk floor, and a risk level's limits are
// rules, not advice. Checked once at admission; the modal shows the same words per field.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';
import { REGRESSION_THRESHOLD_RANGES, riskDefaults } from './plan.js';
import { RISK_LEVELS, type DeployPlan, type Environment, type RiskLevel } from './types.js';

const rank = (r: RiskLevel) => RISK_LEVELS.indexOf(r);

/** The lowest risk a request may claim: the higher of the service's and the environment's `minRisk`. */
export function riskFloor(service: ServiceConfig, environment: Environment): RiskLevel {
  const floors = [service.minRisk, service.environments[environment]?.minRisk].filter((r): r is RiskLevel => r !== undefined);
  return floors.reduce<RiskLevel>((a, b) => (rank(b) > rank(a) ? b : a), 'low');
}

/** `risk`, raised to the floor. */
export function atLeast(risk: RiskLevel, floor: RiskLevel): RiskLevel {
  return rank(risk) < rank(floor) ? floor : risk;
}

export type RiskField = 'risk' | 'regressionThresholdPct' | 'rollbackOnRegression' | 'observationMin';

/** What breaks the limits, per field, in words a person can act on; empty when the plan keeps them. */
export function riskLimitProblems(
  plan: Pick<DeployPlan, 'risk' | 'environment' | 'regressionThresholdPct' | 'rollbackOnRegression' | 'observationSec' | 'service'>,
  service: ServiceConfig,
  cfg: ShipbotConfig,
): Partial<Record<RiskField, string>> {
  const out: Partial<Record<RiskField, string>> = {};
  const floor = riskFloor(service, plan.environment);
  if (rank(plan.risk) < rank(floor))
    out.risk = `${service.name} in ${plan.environment} is at least ${floor} risk (minRisk in shipbot.yml); a request cannot claim ${plan.risk}.`;
  const range = REGRESSION_THRESHOLD_RANGES[plan.risk];
  if (plan.regressionThresholdPct < range.min || plan.regressionThresholdPct > range.max)
    out.regressionThresholdPct = `For ${plan.risk} risk the regression threshold must be ${range.min === range.max ? `exactly ${range.min}%` : `${range.min}–${range.max}%`} (got ${plan.regressionThresholdPct}%).`;
  if (plan.risk === 'high') {
    if (!plan.rollbackOnRegression) out.rollbackOnRegression = 'A high-risk deploy always rolls back on a regression.';
    const min = riskDefaults('high', cfg).observationSec;
    if (plan.observationSec < min)
      out.observationMin = `A high-risk deploy is observed for at least ${min / 60} min (defaults.observationMin.high), not ${Math.round(plan.observationSec / 6) / 10} min.`;
  }
  return out;
}
