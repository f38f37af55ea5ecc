// Pre-deployment checks and the health signals of a set of pods, as plain data the runner
// decides on. Reading only: nothing here changes the cluster.
import { ownershipCheck, type Workload } from './ownership.js';
import type { V1Deployment } from '@kubernetes/client-node';
import { VERSION_PATTERN, type InfraSignal } from '../domain/types.js';
import { ClusterError } from './errors.js';
import { containerImageOf, type DriverContext } from './common.js';
import { imageTag, podSignals, REVISION_ANNOTATION, selectorText } from './rules.js';
import type { PreflightCheck, WorkloadRef } from './types.js';

function check(name: string, ok: boolean, detail: string, severity: 'error' | 'warning' = 'error'): PreflightCheck {
  return { name, ok, severity, detail };
}

/** The image tag is valid, the cluster answers, its nodes are Ready: what every workload kind checks first. */
export async function clusterChecks(ctx: DriverContext, ref: WorkloadRef, version: string): Promise<PreflightCheck[]> {
  const checks: PreflightCheck[] = [];
  checks.push(
    check(
      'image tag valid',
      VERSION_PATTERN.test(version),
      VERSION_PATTERN.test(version)
        ? `${ref.imageRepo}:${version}`
        : `'${version}' is not a valid image tag (A-Z a-z 0-9 . _ -, at most 128).`,
    ),
  );

  try {
    const nodes = await ctx.api.listNodes();
    checks.push(check('cluster reachable', true, ctx.api.server));
    const notReady = nodes.filter((n) => !n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
    checks.push(
      check(
        'nodes Ready',
        nodes.length > 0 && notReady.length === 0,
        nodes.length === 0
          ? 'the cluster reports no nodes'
          : notReady.length
            ? `not Ready: ${notReady.map((n) => n.metadata?.name).join(', ')}`
            : `${nodes.length} node(s) Ready`,
      ),
    );
  } catch (err) {
    const forbidden = err instanceof ClusterError && err.status === 403;
    const reachable = err instanceof ClusterError && err.status !== undefined;
    checks.push(check('cluster reachable', reachable, reachable ? ctx.api.server : (err as Error).message));
    // Listing nodes needs a ClusterRole; without it we cannot tell, which should not block a deploy.
    checks.push(check('nodes Ready', false, (err as Error).message, forbidden ? 'warning' : 'error'));
  }
  return checks;
}

/**
 * Reachable, nodes Ready, the live Deployment exists and is healthy, something to roll back
 * to, and the tag is valid. `live` names the Deployment serving traffic now.
 */
export async function preflightChecks(ctx: DriverContext, ref: WorkloadRef, version: string, live: string): Promise<PreflightCheck[]> {
  const checks = await clusterChecks(ctx, ref, version);
  if (!checks.find((c) => c.name === 'cluster reachable')?.ok) return checks;

  let d: V1Deployment | undefined;
  try {
    d = await ctx.api.findDeployment(ref.namespace, live);
    checks.push(
      check(
        'workload exists',
        Boolean(d),
        d
          ? `Deployment ${live} in ${ref.namespace}`
          : `Deployment ${live} not found in ${ref.namespace}: check data/shipbot.yml or create it.`,
      ),
    );
  } catch (err) {
    checks.push(check('workload exists', false, (err as Error).message));
  }
  if (!d) return checks;

  // Another writer (Argo CD, Flux) would fight every change: found before anything changes.
  checks.push(await ownershipCheck(ctx, ref, { kind: 'Deployment', metadata: d.metadata as Workload['metadata'] }));
  const pods = await ctx.api.listPods(ref.namespace, selectorText(d.spec?.selector.matchLabels ?? {}));
  const bad = podSignals(pods, ctx.clock.now()).filter(
    (s) => s.kind === 'crash-loop' || s.kind === 'image-pull' || s.kind === 'oom-killed',
  );
  checks.push(
    check(
      'workload healthy',
      bad.length === 0,
      bad.length === 0
        ? `${pods.length} pod(s), none crash-looping or failing to pull`
        : bad.map((s) => `${'pod' in s ? s.pod : ''} ${s.kind}`).join(', '),
    ),
  );

  let image: string | undefined;
  try {
    image = containerImageOf(d, ref);
  } catch (err) {
    checks.push(check('previous revision', false, (err as Error).message));
    return checks;
  }
  const available = d.status?.availableReplicas ?? 0;
  const revision = d.metadata?.annotations?.[REVISION_ANNOTATION];
  checks.push(
    check(
      'previous revision',
      available > 0,
      available > 0
        ? `rollback target ${image}${revision ? ` (revision ${revision})` : ''}, ${available} pod(s) available`
        : `no available pods of ${live}: there is no working version to roll back to.`,
      'warning',
    ),
  );
  if (imageTag(image) === version) checks.push(check('new version', false, `${live} already runs ${version}.`, 'warning'));
  return checks;
}

/**
 * Current health signals of the pods of Deployment `name` (none when it does not exist);
 * with `image`, only of the pods running that image (the new version during a rolling update).
 */
export async function deploymentSignals(ctx: DriverContext, ref: WorkloadRef, name: string, image?: string): Promise<InfraSignal[]> {
  const d = await ctx.api.findDeployment(ref.namespace, name);
  if (!d) return [];
  const pods = (await ctx.api.listPods(ref.namespace, selectorText(d.spec?.selector.matchLabels ?? {}))).filter(
    (p) => image === undefined || p.spec?.containers.find((c) => c.name === ref.container)?.image === image,
  );
  return podSignals(pods, ctx.clock.now(), d);
}
