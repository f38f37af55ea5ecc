// The migration step: before an environment's rollout, its migration Job runs once for the
// release (cluster/migration.ts), and no traffic moves until it has succeeded. And the rule that
// follows from it: a migration that is not backward compatible turns an automatic rollback into
// a question for a person, because the previous version would run on a schema it does not know.
import type { MigrationResult, MigrationTarget } from '../../cluster/index.js';
import { migrationJobName } from '../../cluster/migration-job.js';
import type { WorkloadRef } from '../../cluster/types.js';
import { imageRef } from '../../cluster/rules.js';
import { truncate } from '../../domain/text.js';
import type { DeployPlan, Environment } from '../../domain/types.js';
import type { RunRecord } from '../../store/records.js';
import type { RunChange } from '../model/reduce.js';
import type { StepOutcome } from '../model/steps.js';

/** Runs a release's migration Job in one environment and waits for it: the cluster adapter. */
export type Migrate = (
  ref: WorkloadRef,
  target: MigrationTarget,
  opts: { signal: AbortSignal; progress: (line: string) => void },
) => Promise<MigrationResult>;

/** Whether a run migrates in the environment `ref` is: the request says so, or the service always does. */
export function migrates(plan: Pick<DeployPlan, 'dbMigration'>, ref: WorkloadRef | undefined): boolean {
  return Boolean(ref?.migration && (plan.dbMigration || ref.migration.always));
}

const LOG_LINES = 8;

export async function migrationStep(
  run: Readonly<RunRecord>,
  environment: Environment,
  ref: WorkloadRef,
  migrate: Migrate,
  opts: { signal: AbortSignal; progress: (line: string) => void; commit: (c: RunChange) => void },
): Promise<StepOutcome> {
  const m = ref.migration;
  if (!m) return { status: 'skipped', detail: `no migration Job is configured for ${run.service} in ${environment}` };
  // Validated again here: nothing but a tag or digest reaches an image reference.
  const image = imageRef(ref.imageRepo, run.data.artifact?.digest ?? run.version);
  const name = migrationJobName(run.service, environment, run.version, image);
  const target: MigrationTarget = {
    namespace: ref.namespace,
    name,
    template: m.job ? { spec: m.job } : { fromJob: m.fromJob! },
    image,
    service: run.service,
    version: run.version,
    runId: run.id,
    timeoutSec: m.timeoutSec,
    ...(m.container ? { container: m.container } : {}),
  };
  const res = await migrate(ref, target, opts);
  opts.commit({
    migration: {
      environment,
      record: {
        job: name,
        ok: res.ok,
        detail: res.detail,
        backwardCompatible: m.backwardCompatible,
        ...(!res.ok && res.log ? { logTail: [`(pod ${res.log.pod})`, ...res.log.lines.slice(-LOG_LINES)] } : {}),
      },
    },
  });
  if (res.ok) {
    const policy = m.backwardCompatible
      ? 'expand-only: a rollback keeps the new schema'
      : 'not backward compatible: a rollback needs a person';
    return { status: 'done', detail: `${res.detail}; ${policy}` };
  }
  const tail = (res.log?.lines ?? []).slice(-LOG_LINES).map((l) => truncate(l, 200));
  const why = `${environment} migration: ${res.detail}; no traffic moved`;
  const detail = tail.length
    ? `${res.detail}; no traffic moved. Last log lines (pod ${res.log?.pod}):\n\`\`\`\n${tail.join('\n')}\n\`\`\``
    : `${res.detail}; no traffic moved (its pod left no log to show)`;
  // Staging may already run the release (a production migration failing after it): next-move.ts puts it back.
  return { status: 'failed', detail, result: { kind: 'failed', reason: why } };
}
