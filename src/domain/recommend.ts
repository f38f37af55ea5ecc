// Which strategy to recommend, and why, in words a person reads in Slack.
// Order of the rules is the order of the runbook: an explicit choice is honoured; a service that
// cannot run two copies gets rolling; zero downtime / instant rollback gets blue-green; high
// risk gets canary; otherwise the configured default. A database migration adds its caveat.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';
import { readGuidance } from './parse-keywords.js';
import { contractingMigration, strategyRefusal } from './migration-policy.js';
import type { DeployRequest, Environment, RollbackTolerance, Strategy } from './types.js';

export interface Recommendation {
  strategy: Strategy;
  /** One short paragraph: the strategy, the reason, and what a DB migration means for rollback. */
  rationale: string;
  /** Things to act on before starting (strategy not allowed, two copies of a stateful service); not in `rationale`. */
  warnings: string[];
}

/** Optional answers from the modal that change the recommendation. */
export interface RecommendOptions {
  rollbackTolerance?: RollbackTolerance;
}

const WHAT: Record<Strategy, string> = {
  'blue-green': 'the new version starts beside the old one and traffic switches at once after checks; rollback is an instant switch back',
  canary: 'the new version takes a small share of traffic first and is compared with the baseline before each larger step',
  rolling: 'pods are replaced a few at a time, so no second full copy of the service is needed',
};

export const DB_MIGRATION_NOTE =
  'Database migration: a rollback restores the code, not the schema. The migration must be backward compatible ' +
  '(expand first, contract in a later release) so the old version still runs against the new schema; ' +
  'plan a separate down-migration if it is not.';

type Request = Pick<DeployRequest, 'strategy' | 'risk' | 'dbMigration' | 'guidance' | 'timeline'> & {
  environment?: Environment;
  notes?: string[];
};

/**
 * A rationale for a line that already names the strategy: without the name again ("canary —
 * Canary: …") and "asked for canary" as "as asked".
 */
export function reasonAfterName(strategy: string, rationale: string | undefined): string | undefined {
  return rationale?.replace(new RegExp(`^${strategy}:\\s*`, 'i'), '').replace(new RegExp(`^asked for ${strategy}\\b`, 'i'), 'as asked');
}

export function recommendStrategy(
  request: Request,
  service: ServiceConfig,
  cfg: ShipbotConfig,
  options: RecommendOptions = {},
): Recommendation {
  const warnings: string[] = [];
  const hints = readGuidance(request.guidance ?? '');
  const allowed = service.strategies;
  const risk = request.risk ?? cfg.defaults.risk;
  const dbMigration = request.dbMigration ?? hints.dbMigration?.value ?? false;
  const environment = request.environment ?? 'production';
  const contracting = contractingMigration(service, environment, dbMigration);

  let strategy: Strategy;
  let why: string;
  if (request.strategy) {
    strategy = request.strategy;
    why = `asked for ${strategy}`;
    // The words it came from (a note `read "zero downtime" as blue-green`), when not the strategy's name.
    const fromKeyword = request.notes?.map((n) => /^read "(.+)" as (\S+)$/.exec(n)).find((m) => m?.[2] === strategy);
    if (fromKeyword) why = `asked for "${fromKeyword[1]}"`;
    if (!allowed.includes(strategy)) {
      warnings.push(
        `${service.name} does not allow ${strategy} (allowed: ${allowed.join(', ')} in shipbot.yml); the run will refuse it unless you choose one of those.`,
      );
    }
    const refusal = strategyRefusal(service, environment, dbMigration, strategy);
    if (refusal) warnings.push(`${refusal}; the run will refuse ${strategy}.`);
  } else if (contracting && allowed.includes('blue-green')) {
    strategy = 'blue-green';
    why = 'the migration is not backward compatible, so old and new code must not serve side by side';
  } else {
    const choice = chooseByRules(
      service,
      cfg,
      risk,
      hints.strategy?.value,
      options.rollbackTolerance ?? (hints.instantRollback ? 'instant' : undefined),
    );
    strategy = choice.strategy;
    why = choice.why;
    if (!allowed.includes(strategy)) {
      const fallback = (['canary', 'rolling', 'blue-green'] as const).find((s) => allowed.includes(s))!;
      warnings.push(`${strategy} would fit (${why}), but ${service.name} only allows ${allowed.join(', ')}; using ${fallback}.`);
      why = `${service.name} allows only ${allowed.join(', ')}`;
      strategy = fallback;
    }
  }

  const parts = [`${label(strategy)}: ${why}; ${WHAT[strategy]}.`];
  if (strategy === 'blue-green' && (service.stateful || !service.spareCapacity)) {
    const caveat = `${service.name} is ${service.stateful ? 'stateful' : 'short of spare capacity'}: blue-green runs two full copies at once.`;
    warnings.push(caveat);
  }
  if (risk === 'high' && strategy !== 'canary') {
    parts.push('High risk: watch the first minutes closely; canary would validate on a small share of traffic first.');
  }
  if (contracting) {
    parts.push('The migration is not backward compatible: a rollback needs a person and a down-migration, so the observation is doubled.');
  } else if (dbMigration) {
    parts.push(DB_MIGRATION_NOTE);
    if (strategy === 'blue-green') parts.push('Both colours share the database, so the old colour must work with the new schema.');
  }
  return { strategy, rationale: parts.join(' '), warnings };
}

function chooseByRules(
  service: ServiceConfig,
  cfg: ShipbotConfig,
  risk: string,
  keyword: Strategy | undefined,
  rollbackTolerance: RollbackTolerance | undefined,
): { strategy: Strategy; why: string } {
  if (service.stateful) return { strategy: 'rolling', why: `${service.name} is stateful, so two full copies would both hold state` };
  if (!service.spareCapacity) return { strategy: 'rolling', why: `${service.name} has no spare capacity for a second copy` };
  if (keyword === 'blue-green' || rollbackTolerance === 'instant') {
    return { strategy: 'blue-green', why: 'zero downtime and an instant rollback were asked for' };
  }
  if (risk === 'high' || keyword === 'canary') {
    return { strategy: 'canary', why: 'high risk calls for progressive validation on real traffic' };
  }
  return { strategy: cfg.defaults.strategy, why: `the configured default for ${risk}-risk deploys` };
}

function label(s: Strategy): string {
  return s === 'blue-green' ? 'Blue-green' : s === 'canary' ? 'Canary' : 'Rolling';
}
