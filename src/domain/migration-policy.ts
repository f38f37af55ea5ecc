// What a release's database migration means for its strategy, as a pure rule. A migration that is
// not backward compatible (it contracts the schema) must not have old and new code serving side
// by side: canary and rolling are refused, blue-green is recommended with a longer observation.
import type { MigrationConfig, ServiceConfig } from './config-schema.js';
import type { Environment, Strategy } from './types.js';

export function migrationOf(service: ServiceConfig, environment: Environment): MigrationConfig | undefined {
  return service.environments[environment]?.migration ?? service.migration;
}

/** The migration a release runs in `environment` when it is not backward compatible; undefined otherwise. */
export function contractingMigration(service: ServiceConfig, environment: Environment, dbMigration: boolean): MigrationConfig | undefined {
  const m = migrationOf(service, environment);
  return m && !m.backwardCompatible && (dbMigration || m.always) ? m : undefined;
}

/** Why `strategy` may not run with this release's migration; undefined when it may. */
export function strategyRefusal(
  service: ServiceConfig,
  environment: Environment,
  dbMigration: boolean,
  strategy: Strategy,
): string | undefined {
  if (strategy === 'blue-green' || !contractingMigration(service, environment, dbMigration)) return undefined;
  return `${service.name}'s migration is not backward compatible (backwardCompatible: false), and ${strategy} runs old and new code side by side on the changed schema: use blue-green, which switches all traffic at once`;
}

/** A contracting migration doubles the observation: a rollback then needs a person and a down-migration. */
export const CONTRACTING_OBSERVATION_FACTOR = 2;

type Applied = Partial<Record<Environment, { ok: boolean; backwardCompatible: boolean }>>;

/** What a rollback means for the schema, for the rollback step and the reports; undefined when no migration ran. */
export function schemaNote(migrations: Applied | undefined): string | undefined {
  const applied = Object.entries(migrations ?? {}).filter(([, m]) => m?.ok);
  if (!applied.length) return undefined;
  const envs = applied.map(([env]) => env).join(' and ');
  return applied.every(([, m]) => m!.backwardCompatible)
    ? `the schema stays migrated in ${envs} (expand-only: the previous version runs on it)`
    : `the schema stays migrated in ${envs} and is not backward compatible: a down-migration is needed`;
}
