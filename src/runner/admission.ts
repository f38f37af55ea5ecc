// Admission: whether a deploy may start at all, checked the same way for Slack, the terminal
// and the scheduler: the service and environment exist, the strategy is allowed (and fits the
// release's migration), the requester may deploy, and no freeze is in force unless an incident
// commander overrides it. Pure: the lock is taken with the run row, in the runner's transaction.
import { findService, type ServiceConfig, type ShipbotConfig } from '../config.js';
import { type ActiveFreeze, activeFreeze, describeFreeze } from '../domain/freeze.js';
import { strategyRefusal } from '../domain/migration-policy.js';
import { riskLimitProblems } from '../domain/risk-policy.js';
import type { RunPhase, StartInput, StartResult } from '../domain/run.js';
import { actorLabel, type RunRecord } from '../store/records.js';
import { isIncidentCommander, mayDeploy } from '../domain/permissions.js';
import { initialSteps } from './model/steps.js';

export type Admission =
  /** With `override`: a freeze is in force and an incident commander overrode it (`freeze`). */
  | { ok: true; service: ServiceConfig; override?: { by: NonNullable<StartInput['freezeOverride']>; freeze: ActiveFreeze } }
  | Extract<StartResult, { ok: false }>;

export function admitStart(config: ShipbotConfig, now: number, input: StartInput): Admission {
  const plan = input.plan;
  const service = findService(config, plan.service);
  if (!service)
    return {
      ok: false as const,
      reason: 'invalid',
      message: `Unknown service '${plan.service}'. Known: ${config.services.map((s) => s.name).join(', ')}.`,
    };
  if (!service.environments[plan.environment]) {
    return {
      ok: false as const,
      reason: 'invalid',
      message: `${service.name} has no ${plan.environment} environment in the catalogue (data/shipbot.yml).`,
    };
  }
  if (!service.strategies.includes(plan.strategy)) {
    return {
      ok: false as const,
      reason: 'invalid',
      message: `${service.name} does not allow ${plan.strategy}; choose one of ${service.strategies.join(', ')}.`,
    };
  }
  const refusal = strategyRefusal(service, plan.environment, plan.dbMigration, plan.strategy);
  if (refusal) return { ok: false, reason: 'invalid', message: `${refusal}.` };
  const limits = Object.values(riskLimitProblems(plan, service, config));
  if (limits.length) return { ok: false, reason: 'invalid', message: limits.join(' ') };
  // The one permission check of a start, wherever it came from (a channel's rules apply there).
  const deploy = mayDeploy(input.requester, input.channel ?? null, plan.environment, config);
  if (!deploy.ok) return { ok: false, reason: 'forbidden', message: deploy.reason };
  const freeze = activeFreeze(config.freezeWindows, plan.environment, new Date(now));
  const override = freeze && input.freezeOverride;
  if (freeze && !override)
    return {
      ok: false as const,
      reason: 'frozen',
      message: `${describeFreeze(freeze)} Try again after the freeze, or ask an incident commander to override it.`,
    };
  if (override && !isIncidentCommander(override.actor, config)) {
    return {
      ok: false as const,
      reason: 'forbidden',
      message: `${describeFreeze(freeze)} Only incident commanders (roles.incidentCommanders in shipbot.yml) may override a freeze; ask one of them.`,
    };
  }

  return { ok: true, service, ...(freeze && override ? { override: { by: override, freeze } } : {}) };
}

/** The record of a run just admitted: its steps from the plan, the freeze override if any. */
export function newRunRecord(
  id: string,
  now: number,
  input: StartInput,
  admitted: Extract<Admission, { ok: true }>,
  migrations: { staging: boolean; target: boolean },
  /** Where it starts: running, or queued behind the lock, or waiting for an approval. */
  start: { phase: RunPhase; stage?: string },
): RunRecord {
  const { plan } = input;
  const { service, override } = admitted;
  const rehearses = plan.environment === 'production' && Boolean(service.environments.staging);
  return {
    id,
    service: service.name,
    environment: plan.environment,
    version: plan.version,
    strategy: plan.strategy,
    plan: { ...plan, service: service.name },
    // The promotion path: a production release of a service with staging rehearses there first.
    targets: [...(rehearses ? [{ environment: 'staging' as const }] : []), { environment: plan.environment }],
    request: input.request,
    phase: start.phase,
    ...(start.stage ? { stage: start.stage } : {}),
    restarts: [],
    requester: input.requester,
    origin: input.origin,
    steps: initialSteps(
      plan,
      rehearses,
      migrations,
      ownerName(service.environments[plan.environment]?.gitops),
      service.checks.prePromotion.length > 0,
    ),
    data: override
      ? {
          freezeOverride: {
            by: actorLabel(override.by.actor),
            reason: override.by.reason,
            at: now,
            freeze: describeFreeze(override.freeze),
          },
        }
      : {},
    createdAt: now,
    updatedAt: now,
    ...(input.dedupeKey ? { dedupeKey: input.dedupeKey } : {}),
  };
}

/** "Argo CD" or "Flux" for an environment a reconciler owns. */
function ownerName(g: ServiceConfig['environments']['production']['gitops']): string | undefined {
  return g ? (g.argocd ? 'Argo CD' : 'Flux') : undefined;
}
