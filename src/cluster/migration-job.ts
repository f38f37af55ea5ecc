// The migration Job a release runs before any of its traffic moves, as pure functions: its name
// (one per release and environment, so a resumed or retried run finds it instead of running the
// migration again), its manifest from the team's template, and how to read its conditions.
import { createHash } from 'node:crypto';
import type { V1Job, V1JobSpec } from '@kubernetes/client-node';
import { versionLabel } from './rules.js';

/** Marks the Jobs Shipbot creates, with the run that created them. */
export const MIGRATION_LABEL = 'shipbot/migration';
export const RUN_LABEL = 'shipbot/run';

/**
 * `<service>-migrate-<environment>-<version>-<hash>`: a DNS label of at most 63 characters (the
 * Job controller copies the name into a label) keyed by the exact image reference (its digest when
 * known). The readable part loses case, dots and underscores, so the hash of the whole reference
 * is what keeps `v1.2.3`, `V1.2.3`, `v1_2_3` and a moved tag's digest apart.
 */
export function migrationJobName(service: string, environment: string, version: string, image: string): string {
  const hash = createHash('sha256').update(image).digest('hex').slice(0, 10);
  const stem = `${service}-migrate-${environment}-${version}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 63 - hash.length - 1)
    .replace(/-+$/, '');
  return `${stem}-${hash}`;
}

/** The image a migration Job runs (its migration container's), as created. */
export function jobImage(job: V1Job, container?: string): string | undefined {
  const containers = job.spec?.template.spec?.containers ?? [];
  return (container ? containers.find((c) => c.name === container) : containers[0])?.image;
}

export interface MigrationJobInput {
  name: string;
  namespace: string;
  /** The team's template: a batch/v1 JobSpec (or the spec of the Job it clones). */
  template: V1JobSpec;
  /** The container that runs the release image; default the template's first. */
  container?: string;
  image: string;
  service: string;
  version: string;
  runId: string;
  timeoutSec: number;
}

/**
 * The Job to create. The release image goes into the migration container; the deadline is the
 * cluster's to enforce too (activeDeadlineSeconds). No ttlSecondsAfterFinished: a finished Job is
 * the record that this release's migration ran, and deleting it would let a resume run it again.
 */
export function migrationJob(input: MigrationJobInput): V1Job {
  const spec = structuredClone(input.template);
  // A cloned Job's generated selector and labels belong to that Job.
  delete spec.selector;
  delete spec.manualSelector;
  delete spec.ttlSecondsAfterFinished;
  // A Job kept as a template is often suspended; the release's copy is meant to run.
  spec.suspend = false;
  const podSpec = spec.template.spec;
  if (!podSpec?.containers.length) throw new Error('the migration template has no containers (migration.job.template.spec.containers)');
  const target = input.container ? podSpec.containers.find((c) => c.name === input.container) : podSpec.containers[0];
  if (!target)
    throw new Error(
      `the migration template has no container "${input.container}" (its containers: ${podSpec.containers.map((c) => c.name).join(', ')})`,
    );
  target.image = input.image;
  podSpec.restartPolicy = podSpec.restartPolicy === 'OnFailure' ? 'OnFailure' : 'Never';
  const labels = { ...(spec.template.metadata?.labels ?? {}) };
  for (const k of Object.keys(labels)) if (k.includes('controller-uid') || k.endsWith('job-name')) delete labels[k];
  const ours = { [MIGRATION_LABEL]: input.service, [RUN_LABEL]: input.runId, 'app.kubernetes.io/version': versionLabel(input.version) };
  spec.template.metadata = { ...spec.template.metadata, labels: { ...labels, ...ours } };
  spec.activeDeadlineSeconds = Math.min(spec.activeDeadlineSeconds ?? Infinity, input.timeoutSec);
  spec.backoffLimit ??= 0;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: input.name, namespace: input.namespace, labels: ours, annotations: { 'shipbot/image': input.image } },
    spec,
  };
}

/** The template of an existing Job, to clone: its spec without what the controller generated. */
export function templateOfJob(job: V1Job): V1JobSpec {
  if (!job.spec) throw new Error(`Job ${job.metadata?.name} has no spec to clone`);
  const spec = structuredClone(job.spec);
  delete spec.selector;
  delete spec.manualSelector;
  return spec;
}

export type JobState =
  | { state: 'running'; detail: string }
  | { state: 'complete'; detail: string }
  | { state: 'failed'; reason: string; detail: string };

/**
 * What a Job's status says. `Complete` / `Failed` are final; since Kubernetes 1.31 the controller
 * first sets `SuccessCriteriaMet` / `FailureTarget` while the pods terminate, which are already
 * decided and read the same way.
 */
export function jobState(job: V1Job): JobState {
  const conditions = job.status?.conditions ?? [];
  const on = (type: string) => conditions.find((c) => c.type === type && c.status === 'True');
  const failed = on('Failed') ?? on('FailureTarget');
  if (failed) return { state: 'failed', reason: failed.reason ?? 'Failed', detail: failed.message ?? failed.reason ?? 'the Job failed' };
  if (on('Complete') ?? on('SuccessCriteriaMet')) return { state: 'complete', detail: 'completed' };
  const s = job.status ?? {};
  return {
    state: 'running',
    detail: `${s.active ?? 0} running, ${s.failed ?? 0} failed attempts (backoff limit ${job.spec?.backoffLimit ?? 6})`,
  };
}
