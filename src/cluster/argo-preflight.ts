// What validation checks on an Argo Rollout before anything changes: it exists and has a strategy
// (the plan's must be it), its controller reports, nobody else owns it without `gitops`, it is
// not paused by hand or mid-update, an aborted update is retried or replaced, and there is a
// stable ReplicaSet to roll back to. Reading only.
import type { V1ReplicaSet } from '@kubernetes/client-node';
import type { DeployPlan } from '../domain/types.js';
import { controllerLine, imageIn, kindOf, ROLLOUT_HASH, ROLLOUTS, type RolloutObject } from './argo-rules.js';
import type { DriverContext } from './common.js';
import { isNotFound } from './errors.js';
import { clusterChecks } from './health.js';
import { ownershipCheck, type Workload } from './ownership.js';
import { imageRef, imageTag } from './rules.js';
import type { PreflightCheck, WorkloadRef } from './types.js';

export async function readRollout(ctx: DriverContext, ref: WorkloadRef): Promise<RolloutObject> {
  return (await ctx.api.getCustom(ROLLOUTS, ref.namespace, ref.deployment)) as unknown as RolloutObject;
}

/** The ReplicaSet of a Rollout with this pod-template hash (the stable one a rollback goes back to). */
export async function stableReplicaSet(ctx: DriverContext, ref: WorkloadRef, hash: string | undefined): Promise<V1ReplicaSet | undefined> {
  if (!hash) return undefined;
  return (await ctx.api.listReplicaSets(ref.namespace, `${ROLLOUT_HASH}=${hash}`))[0];
}

export async function rolloutPreflight(
  ctx: DriverContext,
  ref: WorkloadRef,
  version: string,
  plan?: DeployPlan,
): Promise<PreflightCheck[]> {
  const checks = await clusterChecks(ctx, ref, version);
  if (!checks.find((c) => c.name === 'cluster reachable')?.ok) return checks;
  const check = (name: string, ok: boolean, detail: string, severity: 'error' | 'warning' = 'error') =>
    checks.push({ name, ok, detail, severity });
  let ro: RolloutObject;
  try {
    ro = await readRollout(ctx, ref);
  } catch (err) {
    check(
      'workload exists',
      false,
      isNotFound(err) ? `Rollout ${ref.deployment} not found in ${ref.namespace}: check data/shipbot.yml.` : (err as Error).message,
    );
    return checks;
  }
  const kind = kindOf(ro);
  check(
    'workload exists',
    Boolean(kind),
    kind
      ? `Rollout ${ref.deployment} in ${ref.namespace} (${kind}; ${controllerLine(ro)})`
      : `Rollout ${ref.deployment} has no canary or blueGreen strategy`,
  );
  if (!kind) return checks;
  // Another writer (Argo CD, Flux) would put the image back: found before anything changes.
  checks.push(await ownershipCheck(ctx, ref, { kind: 'Rollout', metadata: ro.metadata as Workload['metadata'] }));
  if (plan && plan.strategy !== kind)
    check(
      'strategy',
      false,
      `Rollout ${ref.deployment} runs ${kind}: Shipbot drives the Rollout's own strategy, so ask for ${kind} (its steps are the Rollout's).`,
    );
  const aborted = ro.status?.abort;
  check(
    'controller',
    ro.status?.phase !== undefined,
    ro.status?.phase ? controllerLine(ro) : 'the Argo Rollouts controller has not reported on this Rollout: is it running in this cluster?',
  );
  // An aborted update is taken up again: the same version is retried (the plugin's retry), another starts afresh.
  if (aborted)
    check(
      'aborted update',
      false,
      imageIn(ro, ref.container) === imageRef(ref.imageRepo, version)
        ? `the Rollout's update to ${version} was aborted: this deploy retries it (kubectl argo rollouts retry)`
        : `the Rollout's update to ${imageTag(imageIn(ro, ref.container) ?? '?')} was aborted: this deploy's new template starts a fresh update`,
      'warning',
    );
  if (ro.spec.workloadRef)
    check(
      'workloadRef',
      false,
      `Rollout ${ref.deployment} takes its template from ${ro.spec.workloadRef.kind} ${ro.spec.workloadRef.name} (workloadRef): Shipbot does not drive such Rollouts yet`,
    );
  if (ro.spec.paused)
    check(
      'paused',
      false,
      `the Rollout is paused by hand (spec.paused): resume it (kubectl argo rollouts promote) or ask whoever paused it first`,
    );
  if (ro.status?.stableRS && ro.status.currentPodHash !== ro.status.stableRS && !aborted)
    check('previous release', false, `the Rollout is mid-update (${controllerLine(ro)}): let it finish or roll it back first`);
  const stable = await stableReplicaSet(ctx, ref, ro.status?.stableRS);
  const image = stable && imageIn(stable, ref.container);
  check(
    'previous revision',
    Boolean(image),
    image ? `rollback target ${image} (ReplicaSet ${stable!.metadata?.name})` : 'no stable ReplicaSet to roll back to',
    'warning',
  );
  if (kind === 'canary' && ro.spec.strategy?.canary?.trafficRouting)
    check(
      'traffic routing',
      true,
      "the Rollout splits traffic through its own trafficRouting: each step's share is the weight its controller sets",
    );
  if (image && imageTag(image) === version) check('new version', false, `${ref.deployment} already runs ${version}.`, 'warning');
  return checks;
}
