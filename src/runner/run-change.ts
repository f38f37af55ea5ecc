// The one place a run record changes while a step runs. A step handler says what it learned or
// did as a RunChange; the loop applies it here and saves it before the step goes on, so what
// the cluster was told is on disk before anything else happens. Pure.
import type { Stage } from '../cluster/types.js';
import type { Environment } from '../domain/types.js';
import type { DecisionRecord, RunData, RunRecord, TargetData, TargetName } from '../store/records.js';
import { withStages } from './steps.js';

type Migration = NonNullable<RunData['migrations']>[Environment];

export interface RunChange {
  /** Fields of one target to set (the others stay). */
  target?: { name: TargetName; set: Partial<TargetData> };
  /** Decisions about one target's version to add, in order. */
  decisions?: { target: TargetName; add: DecisionRecord[] };
  /** The current stage in one line. */
  stage?: string;
  /** The stages the prepared rollout goes through: their step rows are added before promotion. */
  stages?: Stage[];
  preflight?: RunData['preflight'];
  validation?: RunData['validation'];
  migration?: { environment: Environment; record: NonNullable<Migration> };
  /** GitOps facts: the owner's saved setting, then the release's commit. */
  gitops?: RunData['gitops'];
  /** The exact build the release's first pods pulled. */
  artifact?: RunData['artifact'];
  /** How the rollback left traffic (kept with the rollback). */
  verification?: NonNullable<RunData['rollback']>['verification'];
}

export function applyChange(run: RunRecord, c: RunChange): void {
  if (c.target) {
    const { name, set } = c.target;
    run.targets[name] = { ...run.targets[name], ...set };
  }
  if (c.decisions?.add.length) {
    const { target, add } = c.decisions;
    const t = run.targets[target] ?? {};
    run.targets[target] = { ...t, decisions: [...(t.decisions ?? []), ...add] };
  }
  if (c.stage !== undefined) run.stage = c.stage;
  if (c.stages) run.steps = withStages(run.steps, c.stages);
  if (c.preflight) run.data.preflight = c.preflight;
  if (c.validation) run.data.validation = c.validation;
  if (c.artifact) run.data.artifact ??= c.artifact;
  if (c.gitops) run.data.gitops = c.gitops;
  if (c.migration) run.data.migrations = { ...run.data.migrations, [c.migration.environment]: c.migration.record };
  if (c.verification && run.data.rollback) run.data.rollback = { ...run.data.rollback, verification: c.verification };
}
