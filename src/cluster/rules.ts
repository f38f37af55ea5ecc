// Pure decisions of the executor: no I/O here. Kept beside the drivers (src/cluster) because
// they speak Kubernetes objects; the runner's judgments live in src/domain.
import type { V1Deployment, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { imageReference, versionOf } from '../domain/image-ref.js';
import { VERSION_PATTERN, type InfraSignal } from '../domain/types.js';
import { InvalidRolloutError } from './errors.js';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

/** `repo:tag` or `repo@sha256:…`, only for a version VERSION_PATTERN accepts: nothing else reaches an image reference. */
export function imageRef(repo: string, version: string): string {
  if (!VERSION_PATTERN.test(version)) {
    throw new InvalidRolloutError(
      `'${version}' is not a valid image tag or digest: use 1–128 characters of A-Z a-z 0-9 . _ - (not starting with . or -), or sha256:<64 hex>.`,
    );
  }
  return imageReference(repo, version);
}

/** The version an image runs (its tag, or its digest when pinned by one). */
export const imageTag = versionOf;

/** A Kubernetes label value: at most 63 characters, alphanumeric at both ends. */
export const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

/**
 * The `version` label for an image tag. OCI tags may be 128 characters and end in '-' or '.',
 * which a label value may not: such a tag becomes a shortened, valid value with a hash of the
 * whole tag, so two long tags never share a label.
 */
export function versionLabel(tag: string): string {
  if (LABEL_VALUE.test(tag)) return tag;
  let h = 0x811c9dc5;
  for (let i = 0; i < tag.length; i++) h = Math.imul(h ^ tag.charCodeAt(i), 0x01000193) >>> 0;
  // A digest's ':' (or anything else a label may not hold) becomes '-'.
  const stem = tag
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .slice(0, 54)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  return `${stem ? `${stem}-` : ''}${h.toString(16).padStart(8, '0')}`;
}

/** Canary replicas so that canary / (stable + canary) ≈ pct: c = max(1, round(R·p/(100−p))). */
export function canaryReplicas(stableReplicas: number, pct: number): number {
  if (pct >= 100) return 0;
  return Math.max(1, Math.round((stableReplicas * pct) / (100 - pct)));
}

/** Canary replicas for a routed share: enough pods for pct% of the stable's load, ceil(R·p/100), at least 1. */
export function routedCanaryReplicas(stableReplicas: number, pct: number): number {
  if (pct >= 100) return 0;
  return Math.max(1, Math.ceil((stableReplicas * pct) / 100));
}

/** The share (0..100) that replica-ratio routing really gives a canary asked for `pct` beside `stableReplicas`. */
export function replicaRatioShare(stableReplicas: number, pct: number): number {
  if (pct >= 100) return 100;
  const c = canaryReplicas(stableReplicas, pct);
  return Math.round((1000 * c) / (stableReplicas + c)) / 10;
}

/**
 * Preflight's word on replica-ratio routing: undefined when every step is served within a
 * point of what was asked; otherwise the shares it can reach and what to do about it.
 */
export function replicaRatioWarning(stableReplicas: number, steps: readonly number[]): string | undefined {
  const partial = steps.filter((p) => p < 100);
  const reach = partial.map((p) => ({ p, got: replicaRatioShare(stableReplicas, p) }));
  if (reach.every((r) => Math.abs(r.got - r.p) <= 1)) return undefined;
  const smallest = replicaRatioShare(stableReplicas, Math.min(...partial));
  const list = reach.map((r) => `${r.p}% → ${r.got}%`).join(', ');
  return `${stableReplicas} replicas: the smallest step is ${smallest}% (${list}); configure trafficRouting for exact weights`;
}

export interface RolloutStatus {
  done: boolean;
  message: string;
  /** Set when the rollout cannot finish on its own (progress deadline). */
  failed?: string;
}

/** The rules of `kubectl rollout status` for a Deployment (DeploymentStatusViewer). */
export function rolloutStatus(d: V1Deployment): RolloutStatus {
  const name = d.metadata?.name ?? '?';
  const generation = d.metadata?.generation ?? 0;
  const st = d.status ?? {};
  if (generation > (st.observedGeneration ?? 0)) {
    return { done: false, message: `Waiting for deployment "${name}" spec update to be observed...` };
  }
  const progressing = st.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === 'ProgressDeadlineExceeded') {
    const msg = `deployment "${name}" exceeded its progress deadline`;
    return { done: false, message: msg, failed: msg };
  }
  const want = d.spec?.replicas ?? 1;
  const updated = st.updatedReplicas ?? 0;
  const replicas = st.replicas ?? 0;
  const available = st.availableReplicas ?? 0;
  if (updated < want) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${want} new replicas have been updated...`,
    };
  }
  if (replicas > updated) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`,
    };
  }
  if (available < updated) {
    return {
      done: false,
      message: `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`,
    };
  }
  return { done: true, message: `deployment "${name}" successfully rolled out` };
}

export function isPodReady(p: V1Pod): boolean {
  return p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function isTerminating(p: V1Pod): boolean {
  return Boolean(p.metadata?.deletionTimestamp);
}

const IMAGE_PULL_REASONS = new Set(['ImagePullBackOff', 'ErrImagePull', 'InvalidImageName']);

/**
 * Health signals of a set of pods (and, optionally, their Deployment) at `nowMs`. Restart
 * windows are measured from each pod's start time on the same clock.
 */
export function podSignals(pods: V1Pod[], nowMs: number, deployment?: V1Deployment): InfraSignal[] {
  const out: InfraSignal[] = [];
  const live = pods.filter((p) => !isTerminating(p));
  for (const p of live) {
    const pod = p.metadata?.name ?? '?';
    const started = p.status?.startTime ? new Date(p.status.startTime).getTime() : undefined;
    const windowSec = started !== undefined && Number.isFinite(started) ? Math.max(0, Math.round((nowMs - started) / 1000)) : 0;
    let restarts = 0;
    for (const cs of p.status?.containerStatuses ?? []) {
      restarts += cs.restartCount ?? 0;
      const waiting = cs.state?.waiting?.reason;
      const terminated = cs.lastState?.terminated?.reason ?? cs.state?.terminated?.reason;
      if (terminated === 'OOMKilled') out.push({ kind: 'oom-killed', pod, container: cs.name });
      // Between back-offs the kubelet shows the container running again (not ready); after two
      // failed restarts it is a crash loop whatever the moment we look.
      const lastExit = cs.lastState?.terminated?.exitCode ?? 0;
      const restarting = (cs.restartCount ?? 0) >= 2 && !cs.ready && lastExit !== 0;
      if (waiting === 'CrashLoopBackOff' || restarting) out.push({ kind: 'crash-loop', pod, container: cs.name });
      if (waiting && IMAGE_PULL_REASONS.has(waiting)) {
        out.push({ kind: 'image-pull', pod, container: cs.name, message: cs.state?.waiting?.message ?? waiting });
      }
    }
    if (restarts > 0) out.push({ kind: 'restarts', pod, restarts, windowSec });
  }
  const failing = live.filter((p) => !isPodReady(p)).length;
  if (failing > 0) out.push({ kind: 'readiness', failing, total: live.length });
  const deadline = deployment?.status?.conditions?.find((c) => c.type === 'Progressing' && c.reason === 'ProgressDeadlineExceeded');
  if (deadline) {
    out.push({
      kind: 'progress-deadline',
      deployment: deployment?.metadata?.name ?? '?',
      message: deadline.message ?? 'progress deadline exceeded',
    });
  }
  return out;
}

/** Signals that mean the pods will not become available without a change: stop waiting. */
export function fatalSignals(signals: InfraSignal[]): InfraSignal[] {
  return signals.filter(
    (s) =>
      s.kind === 'crash-loop' ||
      s.kind === 'oom-killed' ||
      s.kind === 'image-pull' ||
      s.kind === 'progress-deadline' ||
      s.kind === 'controller-aborted',
  );
}

/** One line per signal kind, for error messages and the progress message. */
export function describeSignals(signals: InfraSignal[]): string {
  const parts: string[] = [];
  const byKind = new Map<string, InfraSignal[]>();
  for (const s of signals) byKind.set(s.kind, [...(byKind.get(s.kind) ?? []), s]);
  for (const [kind, list] of byKind) {
    const first = list[0]!;
    switch (first.kind) {
      case 'crash-loop':
        parts.push(`${list.length} pod(s) in CrashLoopBackOff (${first.pod})`);
        break;
      case 'oom-killed':
        parts.push(`${list.length} pod(s) OOMKilled (${first.pod}): raise the memory limit or fix the leak`);
        break;
      case 'image-pull':
        parts.push(`image cannot be pulled (${first.pod}: ${first.message}): check the tag exists in the registry`);
        break;
      case 'progress-deadline':
        parts.push(`${first.deployment}: ${first.message}`);
        break;
      case 'controller-aborted':
        parts.push(`${first.workload} aborted by its controller: ${first.message}`);
        break;
      case 'readiness':
        parts.push(`${first.failing} of ${first.total} pods not ready`);
        break;
      case 'restarts':
        parts.push(`${list.reduce((n, s) => n + (s.kind === 'restarts' ? s.restarts : 0), 0)} container restarts`);
        break;
      default:
        parts.push(kind);
    }
  }
  return parts.join('; ');
}

/** The ReplicaSet a Deployment owns at `revision` (the annotation kubectl reads). */
export function replicaSetAtRevision(sets: V1ReplicaSet[], revision: string): V1ReplicaSet | undefined {
  return sets.find((rs) => rs.metadata?.annotations?.[REVISION_ANNOTATION] === revision);
}

/** Annotations `kubectl rollout undo` keeps from the Deployment instead of copying from the ReplicaSet. */
export const UNDO_SKIPPED_ANNOTATIONS = [
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  'deployment.kubernetes.io/revision-history',
  'deployment.kubernetes.io/desired-replicas',
  'deployment.kubernetes.io/max-replicas',
  'deprecated.deployment.rollback.to',
];

/**
 * The JSON Patch `kubectl rollout undo` sends: the ReplicaSet's pod template (without its
 * pod-template-hash label) and the Deployment's annotations updated from the ReplicaSet's.
 */
export function undoPatch(deployment: V1Deployment, rs: V1ReplicaSet): Array<{ op: 'replace'; path: string; value: unknown }> {
  const template = structuredClone(rs.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
  const annotations: Record<string, string> = {};
  const current = deployment.metadata?.annotations ?? {};
  for (const k of UNDO_SKIPPED_ANNOTATIONS) if (current[k] !== undefined) annotations[k] = current[k];
  for (const [k, v] of Object.entries(rs.metadata?.annotations ?? {})) if (!UNDO_SKIPPED_ANNOTATIONS.includes(k)) annotations[k] = v;
  return [
    { op: 'replace', path: '/spec/template', value: template },
    { op: 'replace', path: '/metadata/annotations', value: annotations },
  ];
}

/** Share (0..100) of `ready` pods running `image`; 0 when none are ready. */
export function servingShare(pods: V1Pod[], container: string, image: string): number {
  const ready = pods.filter((p) => isPodReady(p) && !isTerminating(p));
  if (ready.length === 0) return 0;
  const matching = ready.filter((p) => p.spec?.containers.find((c) => c.name === container)?.image === image);
  return Math.round((matching.length / ready.length) * 1000) / 10;
}

/** `key=value,key=value` label selector text for list calls. */
export function selectorText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}
