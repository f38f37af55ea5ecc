// Pieces every strategy shares: the dependencies a driver gets, "ensure" helpers for
// Deployments and Services, and waiting for a stage. Each helper reads, compares, patches.
import { withoutOwnerMarks } from '../domain/gitops-owner.js';
import type { V1Deployment, V1Service } from '@kubernetes/client-node';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { ClusterApi, type JsonPatchOp } from './api.js';
import { createOrRead, StageFailedError } from './errors.js';
import type { Kube } from './kube.js';
import { describeSignals, imageTag, selectorText, servingShare, versionLabel } from './rules.js';
import type { RollbackVerification, TrackRef, WorkloadRef } from './types.js';
import { templateImage, waitForRollout } from './wait.js';

export interface DriverDeps {
  kube: Kube;
  clock: Clock;
  log?: Logger;
  /** Clock seconds a stage may take before it fails (default: 660, the progress deadline plus a minute). */
  rolloutTimeoutSec?: number;
  /** Clock milliseconds between status polls (default 2000). */
  pollMs?: number;
  /** Blue-green: how long the old colour stays at full size after cutover (default 24 h). */
  retireAfterSec?: number;
}

/** What a driver uses at run time: dependencies with defaults filled in. */
export interface DriverContext {
  api: ClusterApi;
  clock: Clock;
  log?: Logger;
  timeoutMs: number;
  pollMs: number;
  retireAfterSec: number;
}

export function driverContext(deps: DriverDeps): DriverContext {
  return {
    api: new ClusterApi(deps.kube),
    clock: deps.clock,
    log: deps.log,
    timeoutMs: (deps.rolloutTimeoutSec ?? 660) * 1000,
    pollMs: deps.pollMs ?? 2000,
    retireAfterSec: deps.retireAfterSec ?? 86_400,
  };
}

export const TRACK_LABEL = 'track';
export const VERSION_LABEL = 'version';
/** Set by the Deployment controller on every pod of a ReplicaSet: pins a Service to one RS. */
export const HASH_LABEL = 'pod-template-hash';

/**
 * The `track` label of a Deployment's pods, or '' when they carry none (an ordinary workload
 * as its team labelled it). '' selects the pods without the label: in PromQL `track=""`
 * matches series that lack it.
 */
export function trackOf(d: V1Deployment): string {
  return d.spec?.template.metadata?.labels?.[TRACK_LABEL] ?? '';
}

/** A Service selector without Shipbot's pins (`track`, `pod-template-hash`): the team's own. */
export function baseSelector(selector: Record<string, string> | undefined): Record<string, string> {
  const { [TRACK_LABEL]: _t, [HASH_LABEL]: _h, ...rest } = selector ?? {};
  return rest;
}

export function containerImageOf(d: V1Deployment, ref: WorkloadRef): string {
  const image = templateImage(d, ref.container);
  if (!image) {
    throw new Error(
      `Deployment ${d.metadata?.name} in ${ref.namespace} has no container '${ref.container}': fix environments.<env>.container in data/shipbot.yml.`,
    );
  }
  return image;
}

/** Escapes a key for a JSON Patch path (RFC 6901). */
function pointer(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

/**
 * JSON Patch operations that bring `d` to `image` (and the matching `version` label),
 * `replicas` and not paused; empty when it is already there. A `test` guards the container index.
 */
export function convergeOps(
  d: V1Deployment,
  ref: WorkloadRef,
  want: { image?: string; replicas?: number; paused?: boolean },
): JsonPatchOp[] {
  const ops: JsonPatchOp[] = [];
  const containers = d.spec?.template.spec?.containers ?? [];
  const idx = containers.findIndex((c) => c.name === ref.container);
  if (want.image !== undefined && idx >= 0 && containers[idx]!.image !== want.image) {
    ops.push({ op: 'test', path: `/spec/template/spec/containers/${idx}/name`, value: ref.container });
    ops.push({ op: 'replace', path: `/spec/template/spec/containers/${idx}/image`, value: want.image });
  }
  if (want.image !== undefined) {
    const version = versionLabel(imageTag(want.image));
    const labels = d.spec?.template.metadata?.labels;
    if (!labels) ops.push({ op: 'add', path: '/spec/template/metadata/labels', value: { [VERSION_LABEL]: version } });
    else if (labels[VERSION_LABEL] !== version)
      ops.push({ op: 'add', path: `/spec/template/metadata/labels/${pointer(VERSION_LABEL)}`, value: version });
  }
  if (want.replicas !== undefined && (d.spec?.replicas ?? 1) !== want.replicas) {
    ops.push({ op: 'add', path: '/spec/replicas', value: want.replicas });
  }
  if (want.paused !== undefined && Boolean(d.spec?.paused) !== want.paused) {
    ops.push({ op: 'add', path: '/spec/paused', value: want.paused });
  }
  return ops;
}

/** Ensures `d` runs `image` at `replicas` (each optional); returns the Deployment as it now is. */
export async function ensureDeployment(
  ctx: DriverContext,
  ref: WorkloadRef,
  d: V1Deployment,
  want: { image?: string; replicas?: number; paused?: boolean },
): Promise<V1Deployment> {
  const ops = convergeOps(d, ref, want);
  if (ops.length === 0) return d;
  ctx.log?.info({ deployment: d.metadata?.name, namespace: ref.namespace, want }, 'patching deployment');
  return ctx.api.jsonPatchDeployment(ref.namespace, d.metadata!.name!, ops);
}

/**
 * A Deployment derived from `source` (same pod spec), with `track` in its selector and pod
 * labels so it never shares pods with the source. Used for the canary and the second colour.
 */
export function derivedDeployment(
  source: V1Deployment,
  name: string,
  track: string,
  image: string,
  replicas: number,
  container: string,
): V1Deployment {
  const spec = structuredClone(source.spec!);
  const podLabels: Record<string, string> = {
    ...(spec.template.metadata?.labels ?? {}),
    [TRACK_LABEL]: track,
    [VERSION_LABEL]: versionLabel(imageTag(image)),
  };
  delete podLabels['pod-template-hash'];
  const podSpec = spec.template.spec!;
  podSpec.containers = podSpec.containers.map((c) => (c.name === container ? { ...c, image } : c));
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace: source.metadata?.namespace,
      labels: { ...withoutOwnerMarks(source.metadata?.labels ?? {}), [TRACK_LABEL]: track },
      annotations: { 'shipbot/derived-from': source.metadata?.name ?? '' },
    },
    spec: {
      replicas,
      selector: { matchLabels: { ...(spec.selector.matchLabels ?? {}), [TRACK_LABEL]: track } },
      template: { metadata: { labels: podLabels, annotations: spec.template.metadata?.annotations }, spec: podSpec },
      strategy: spec.strategy,
      minReadySeconds: spec.minReadySeconds,
      progressDeadlineSeconds: spec.progressDeadlineSeconds,
      revisionHistoryLimit: spec.revisionHistoryLimit,
    },
  };
}

/** Ensures Deployment `name` exists (derived from `source` when missing) at `image` × `replicas`. */
export async function ensureDerived(
  ctx: DriverContext,
  ref: WorkloadRef,
  source: V1Deployment,
  name: string,
  track: string,
  image: string,
  replicas: number,
): Promise<V1Deployment> {
  const existing =
    (await ctx.api.findDeployment(ref.namespace, name)) ??
    (await createOrRead(
      () => {
        ctx.log?.info({ deployment: name, namespace: ref.namespace, from: source.metadata?.name }, 'creating deployment');
        return ctx.api.createDeployment(ref.namespace, derivedDeployment(source, name, track, image, replicas, ref.container));
      },
      () => ctx.api.getDeployment(ref.namespace, name),
    ));
  return ensureDeployment(ctx, ref, existing, { image, replicas, paused: false });
}

/** Ensures a Service `name` exists that routes like `like` but selects `selector`. */
export async function ensureSideService(
  ctx: DriverContext,
  ref: WorkloadRef,
  like: V1Service,
  name: string,
  selector: Record<string, string>,
): Promise<V1Service> {
  const existing =
    (await ctx.api.findService(ref.namespace, name)) ??
    (await createOrRead(
      () =>
        ctx.api.createService(ref.namespace, {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name, namespace: ref.namespace, labels: { ...(like.metadata?.labels ?? {}), 'shipbot/role': 'preview' } },
          spec: {
            selector,
            ports: (like.spec?.ports ?? []).map((p) => ({ name: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol })),
          },
        }),
      () => ctx.api.getService(ref.namespace, name),
    ));
  return ensureSelector(ctx, ref.namespace, existing, selector);
}

/** Ensures a Service selects exactly `selector` (merge patch; keys no longer wanted are removed). */
export async function ensureSelector(
  ctx: DriverContext,
  namespace: string,
  svc: V1Service,
  selector: Record<string, string>,
): Promise<V1Service> {
  const current = svc.spec?.selector ?? {};
  const patch: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(selector)) if (current[k] !== v) patch[k] = v;
  for (const k of Object.keys(current)) if (!(k in selector)) patch[k] = null;
  if (Object.keys(patch).length === 0) return svc;
  ctx.log?.info({ service: svc.metadata?.name, namespace, selector }, 'patching service selector');
  return ctx.api.mergeService(namespace, svc.metadata!.name!, { spec: { selector: patch } });
}

/** Waits for Deployment `name`'s rollout; a fatal signal or timeout becomes a StageFailedError. */
export async function awaitRollout(ctx: DriverContext, ref: WorkloadRef, name: string, signal?: AbortSignal): Promise<V1Deployment> {
  const result = await waitForRollout(ctx.api, ref.namespace, name, {
    clock: ctx.clock,
    signal,
    timeoutMs: ctx.timeoutMs,
    pollMs: ctx.pollMs,
    container: ref.container,
  });
  if (result.ok) return result.deployment;
  if (result.reason === 'signal') {
    throw new StageFailedError(
      `${name} in ${ref.namespace} will not become available: ${describeSignals(result.signals)}.`,
      'signal',
      result.signals,
    );
  }
  throw new StageFailedError(`${result.message}. Check the pods with Investigate, then roll back or retry.`, 'timeout', []);
}

/** Waits (bounded by the stage timeout, never throwing) until no pod matches `selector`. */
export async function awaitNoPods(ctx: DriverContext, namespace: string, selector: string): Promise<boolean> {
  const deadline = ctx.clock.now() + ctx.timeoutMs;
  for (;;) {
    if ((await ctx.api.listPods(namespace, selector)).length === 0) return true;
    if (ctx.clock.now() >= deadline) return false;
    await ctx.clock.sleep(ctx.pollMs);
  }
}

/** Share (0..100) of the ready pods behind Service `service` that run `image`. */
export async function serviceShare(
  ctx: DriverContext,
  namespace: string,
  service: string,
  container: string,
  image: string,
): Promise<number> {
  const svc = await ctx.api.getService(namespace, service);
  const selector = svc.spec?.selector ?? {};
  if (Object.keys(selector).length === 0) return 0;
  const pods = await ctx.api.listPods(namespace, selectorText(selector));
  return servingShare(pods, container, image);
}

/**
 * After a rollback: waits (bounded) for `deployment` to be rolled out and for the Service's
 * ready pods to run only the old image, then reports that share. Never throws for an
 * unhealthy result: it says what it saw.
 */
export async function verifyServing(
  ctx: DriverContext,
  ref: WorkloadRef,
  deployment: string,
  previousImage: string,
): Promise<RollbackVerification> {
  const deadline = ctx.clock.now() + ctx.timeoutMs;
  const wait = await waitForRollout(ctx.api, ref.namespace, deployment, {
    clock: ctx.clock,
    timeoutMs: ctx.timeoutMs,
    pollMs: ctx.pollMs,
    container: ref.container,
  });
  let share = await serviceShare(ctx, ref.namespace, ref.service, ref.container, previousImage);
  // Pods of the new version may still be draining; give them the rest of the deadline.
  while (wait.ok && share < 100 && ctx.clock.now() < deadline) {
    await ctx.clock.sleep(ctx.pollMs);
    share = await serviceShare(ctx, ref.namespace, ref.service, ref.container, previousImage);
  }
  const ok = wait.ok && share >= 100;
  const version = imageTag(previousImage);
  const where = `${ref.service} in ${ref.namespace}`;
  // In Shipbot's words, not kubectl's ("successfully rolled out"): what serves, and that it is all ready.
  if (ok) return { ok, oldTrafficPct: share, detail: `${version} serves 100% of ${where}, every pod ready` };
  const why = wait.ok ? 'pods of the new version still serve' : wait.reason === 'signal' ? describeSignals(wait.signals) : wait.message;
  return { ok, oldTrafficPct: share, detail: `${version} serves ${share}% of ${where}: ${why}. Check the pods with Investigate.` };
}

/**
 * prepare() for a Deployment that receives traffic only in later stages (canary, idle colour):
 * created at zero replicas; an existing one at another image is reset to zero with the new
 * image; one already at the new image is left alone, because it belongs to this run resumed.
 */
export async function ensureStandby(
  ctx: DriverContext,
  ref: WorkloadRef,
  source: V1Deployment,
  name: string,
  track: string,
  image: string,
): Promise<V1Deployment> {
  const existing = await ctx.api.findDeployment(ref.namespace, name);
  if (existing && templateImage(existing, ref.container) === image) return existing;
  return ensureDerived(ctx, ref, source, name, track, image, 0);
}

/**
 * The track the Service routes to now: a blue-green colour from its selector, else the stable
 * Deployment's pods' track ('' when they carry no `track` label).
 */
export async function liveTrackOf(ctx: DriverContext, ref: WorkloadRef): Promise<TrackRef> {
  const svc = await ctx.api.getService(ref.namespace, ref.service);
  const pinned = svc.spec?.selector?.[TRACK_LABEL];
  const track = pinned ?? trackOf(await ctx.api.getDeployment(ref.namespace, ref.deployment));
  return { namespace: ref.namespace, service: ref.serviceName, track };
}

/**
 * The pod-template-hash of the ReplicaSet whose pods `d` serves now. Undefined while the
 * Deployment is mid-rollout (more than one ReplicaSet with pods) or has none.
 */
export async function servingTemplateHash(ctx: DriverContext, ref: WorkloadRef, d: V1Deployment): Promise<string | undefined> {
  const uid = d.metadata?.uid;
  const selector = selectorText(d.spec?.selector?.matchLabels ?? {});
  const sets = (await ctx.api.listReplicaSets(ref.namespace, selector)).filter(
    (rs) =>
      (!uid || rs.metadata?.ownerReferences?.some((o) => o.uid === uid && o.controller)) &&
      (rs.status?.replicas ?? rs.spec?.replicas ?? 0) > 0,
  );
  if (sets.length !== 1) return undefined;
  return sets[0]!.metadata?.labels?.[HASH_LABEL];
}
