// The limits a plan must keep whatever way it was made (chat, the terminal, the modal, guidance,
// Claude): the requester cannot talk a service below its risk floor, and a risk level's limits are
// rules, not advice. Checked once at admission; the modal shows the same words per field.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';
import { RISK_LEVELS, type DeployPlan, type Environment, type RiskLevel } from './types.js';

/** The regression threshold each risk level may be given, in percent. */
export const REGRESSION_THRESHOLD_RANGES: Record<RiskLevel, { min: number; max: number }> = {
  high: { min: 0, max: 0 },
  medium: { min: 2, max: 5 },
  low: { min: 5, max: 10 },
};

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
  plan: Pick<
    DeployPlan,
    'risk' | 'environment' | 'regressionThresholdPct' | 'rollbackOnRegression' | 'observationSec' | 'monitoringIntervalSec' | 'service'
  >,
  service: ServiceConfig,
  cfg: ShipbotConfig,
): Partial<Record<RiskField, string>> {
  const out: Partial<Record<RiskField, string>> = {};
  const floor = riskFloor(service, plan.environment);
  if (rank(plan.risk) < rank(floor))
    out.risk = `${service.name} in ${plan.environment} is at least ${floor} risk (minRisk in shipbot.yml); a request cannot claim ${plan.risk}.`;
  // A stricter threshold is always allowed; a looser one is not a matter of choice.
  const { max } = REGRESSION_THRESHOLD_RANGES[plan.risk];
  if (plan.regressionThresholdPct > max)
    out.regressionThresholdPct = `For ${plan.risk} risk the regression threshold is at most ${max}% (got ${plan.regressionThresholdPct}%).`;
  if (plan.risk === 'high') {
    if (!plan.rollbackOnRegression) out.rollbackOnRegression = 'A high-risk deploy always rolls back on a regression.';
    // Long enough for the production gate to judge at all: fewer samples would ask a person anyway.
    const min = cfg.defaults.minSamples * plan.monitoringIntervalSec;
    if (plan.observationSec < min)
      out.observationMin = `A high-risk deploy is observed long enough for the regression gate to judge: at least ${minutes(min)} (${cfg.defaults.minSamples} samples), not ${minutes(plan.observationSec)}.`;
  }
  return out;
}

function minutes(sec: number): string {
  return sec < 120 ? `${sec} s` : `${Math.round(sec / 6) / 10} min`;
}
