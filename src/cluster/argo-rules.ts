// Pure decisions about an Argo Rollouts Rollout: the rows its steps become, where the controller
// is, and the exact patches the `kubectl argo rollouts` plugin sends (argoproj/argo-rollouts
// pkg/kubectl-argo-rollouts/cmd/{promote,abort,retry,pause,undo}). No I/O: argo-rollout.ts sends them.
import { goDurationSeconds } from '../domain/go-duration.js';
import type { ArgoStep } from './rollout-state.js';
import type { Stage } from './types.js';

export type { ArgoStep } from './rollout-state.js';

export const ROLLOUTS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts' } as const;
export const ANALYSIS_RUNS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'analysisruns' } as const;

/** The parts of an AnalysisRun Shipbot shows: its phase, message, and each metric's last measured value. */
export interface AnalysisRunObject {
  metadata: { name?: string; labels?: Record<string, string> };
  status?: {
    phase?: string;
    message?: string;
    metricResults?: Array<{
      name: string;
      phase?: string;
      message?: string;
      measurements?: Array<{ phase?: string; value?: string; message?: string }>;
    }>;
  };
}

/** A failed or inconclusive AnalysisRun in a line: which metric, its value, and Argo's message. */
export function analysisLine(run: AnalysisRunObject): string {
  const s = run.status ?? {};
  const metric = (s.metricResults ?? []).find((m) => m.phase === s.phase) ?? s.metricResults?.[0];
  const last = metric?.measurements?.at(-1);
  const value = last?.value !== undefined ? ` = ${last.value}` : last?.message ? ` (${last.message})` : '';
  const what = metric ? `${metric.name}${value}` : (run.metadata.name ?? 'analysis');
  return `${what}: ${s.phase ?? 'Pending'}${s.message ? ` (${s.message})` : ''}`;
}
/** The label Argo Rollouts puts on every ReplicaSet and pod of a Rollout (DefaultRolloutUniqueLabelKey). */
export const ROLLOUT_HASH = 'rollouts-pod-template-hash';

export interface PauseCondition {
  reason: string;
  startTime?: string;
}

/** The parts of a Rollout Shipbot reads and writes. */
export interface RolloutObject {
  metadata: {
    name?: string;
    namespace?: string;
    generation?: number;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: {
    replicas?: number;
    paused?: boolean;
    workloadRef?: { kind?: string; name?: string };
    template?: { metadata?: { labels?: Record<string, string> }; spec?: { containers?: Array<{ name: string; image?: string }> } };
    strategy?: {
      canary?: { steps?: ArgoStep[]; canaryService?: string; trafficRouting?: unknown };
      blueGreen?: { activeService?: string; previewService?: string; autoPromotionEnabled?: boolean };
    };
  };
  status?: {
    currentStepIndex?: number;
    pauseConditions?: PauseCondition[] | null;
    controllerPause?: boolean;
    abort?: boolean;
    promoteFull?: boolean;
    stableRS?: string;
    currentPodHash?: string;
    observedGeneration?: string;
    phase?: string;
    message?: string;
    availableReplicas?: number;
    updatedReplicas?: number;
    blueGreen?: { activeSelector?: string; previewSelector?: string };
    canary?: {
      currentStepAnalysisRunStatus?: { status?: string; message?: string } | null;
      /** With trafficRouting: the weights the controller set on the route. */
      weights?: { canary?: { weight?: number } } | null;
    };
  };
}

export type RolloutKind = 'canary' | 'blue-green';

/** The image of `container` in a Rollout's (or a ReplicaSet's) pod template. */
export function imageIn(
  o: { spec?: { template?: { spec?: { containers?: Array<{ name: string; image?: string }> } } } },
  container: string,
): string | undefined {
  return (o.spec?.template?.spec?.containers ?? []).find((c) => c.name === container)?.image;
}

export function kindOf(ro: RolloutObject): RolloutKind | undefined {
  const s = ro.spec.strategy;
  return s?.canary ? 'canary' : s?.blueGreen ? 'blue-green' : undefined;
}

/** What a row of a Rollout does, for the driver: its step index, or the preview / cutover of a blue-green one. */
export type RolloutStage = Stage & {
  at:
    | { step: number; kind: 'weight' | 'timed-pause' | 'open-pause' | 'analysis' | 'other' }
    | { bg: 'preview' | 'accept' | 'cutover' }
    | { end: true };
};

/**
 * The rows of a Rollout, as its own spec says (Shipbot invents no steps): setWeight N → "canary
 * N%" (judged: Shipbot's window runs at that weight), a pause with a duration → "pause Ns", a pause
 * without one → "waiting for Accept", an analysis → "Argo analysis <template>"; then the
 * controller making the new version stable. Blue-green: the preview, the Accept when
 * `autoPromotionEnabled: false`, the cutover (judged).
 */
export function rolloutStages(kind: RolloutKind, steps: readonly ArgoStep[], autoPromotion = true): RolloutStage[] {
  if (kind === 'blue-green') {
    return [
      { key: 'ro-preview', title: 'preview', trafficPct: 0, monitor: false, at: { bg: 'preview' } },
      ...(autoPromotion
        ? []
        : [
            {
              key: 'ro-accept',
              title: 'waiting for Accept',
              trafficPct: 0,
              monitor: false,
              waitsForAccept: true,
              at: { bg: 'accept' as const },
            },
          ]),
      { key: 'ro-cutover', title: 'cutover', trafficPct: 100, monitor: true, at: { bg: 'cutover' } },
    ];
  }
  let weight = 0;
  const rows: RolloutStage[] = steps.map((st, i): RolloutStage => {
    const key = `ro-${i}`;
    if (st.setWeight !== undefined) {
      weight = st.setWeight;
      return { key, title: `canary ${weight}%`, trafficPct: weight, monitor: weight < 100, at: { step: i, kind: 'weight' } };
    }
    if (st.pause) {
      const secs = goDurationSeconds(st.pause.duration);
      return secs === undefined
        ? {
            key,
            title: 'waiting for Accept',
            trafficPct: weight,
            monitor: false,
            waitsForAccept: true,
            at: { step: i, kind: 'open-pause' },
          }
        : { key, title: `pause ${secs}s`, trafficPct: weight, monitor: false, at: { step: i, kind: 'timed-pause' } };
    }
    if (st.analysis) {
      const names = (st.analysis.templates ?? []).map((t) => t.templateName).filter(Boolean);
      return {
        key,
        title: `Argo analysis ${names.join(', ')}`.trim(),
        trafficPct: weight,
        monitor: false,
        at: { step: i, kind: 'analysis' },
      };
    }
    return {
      key,
      title: `step ${i + 1}: ${Object.keys(st)[0] ?? 'unknown'}`,
      trafficPct: weight,
      monitor: false,
      at: { step: i, kind: 'other' },
    };
  });
  return [...rows, { key: 'ro-stable', title: 'promote to 100%', trafficPct: 100, monitor: false, at: { end: true } }];
}

/** The controller's step index (status.currentStepIndex; absent before it first reconciled: 0). */
export function stepIndex(ro: RolloutObject): number {
  return ro.status?.currentStepIndex ?? 0;
}

export function pauseCondition(ro: RolloutObject, reason: string): PauseCondition | undefined {
  return (ro.status?.pauseConditions ?? []).find((c) => c.reason === reason);
}

/** Whether the controller has seen the latest spec (a stale observedGeneration means Progressing, whatever status says). */
export function observed(ro: RolloutObject): boolean {
  const g = Number(ro.status?.observedGeneration);
  return !Number.isFinite(g) || g >= (ro.metadata.generation ?? 0);
}

/** Fully promoted: the new template's ReplicaSet is the stable one and the controller says Healthy. */
export function fullyPromoted(ro: RolloutObject): boolean {
  const s = ro.status;
  return observed(ro) && Boolean(s?.currentPodHash) && s?.stableRS === s?.currentPodHash && s?.phase === 'Healthy';
}

// The plugin's patch bodies (promote.go getPatches; abort.go; retry.go; pause.go).
export const UNPAUSE = { spec: { paused: false } } as const;
export const PAUSE = { spec: { paused: true } } as const;
export const ABORT = { status: { abort: true } } as const;
export const RETRY = { status: { abort: false } } as const;
export const PROMOTE_FULL = { status: { promoteFull: true } } as const;

/** What `kubectl argo rollouts promote` sends: a status patch (subresource), then a spec patch; `unified` if the subresource is missing. */
export interface PromotePatches {
  status?: object;
  spec?: object;
  unified: object;
}

/**
 * The plugin's promote, for the cases Shipbot uses. Never the plugin's "skip the current step"
 * branch (a canary not paused): Shipbot promotes only a Rollout waiting at a pause, and refuses
 * (undefined) otherwise, so an unfinished step or analysis is never skipped.
 */
export function promotePatches(ro: RolloutObject): PromotePatches | undefined {
  const conds = ro.status?.pauseConditions ?? [];
  const spec = ro.spec.paused ? UNPAUSE : undefined;
  const unified = { spec: { paused: false }, status: { pauseConditions: null } };
  const inconclusive = ro.spec.strategy?.canary && ro.status?.canary?.currentStepAnalysisRunStatus?.status === 'Inconclusive';
  if (inconclusive && conds.length > 0 && ro.status?.controllerPause) {
    const steps = ro.spec.strategy?.canary?.steps?.length ?? 0;
    const i = stepIndex(ro);
    return {
      status: { status: { pauseConditions: null, controllerPause: false, currentStepIndex: i < steps ? i + 1 : i } },
      ...(spec ? { spec } : {}),
      unified,
    };
  }
  if (conds.length > 0) return { status: { status: { pauseConditions: null } }, ...(spec ? { spec } : {}), unified };
  return undefined;
}

/** `promote --full`: unpause if paused, and promoteFull unless the new version is already stable. */
export function promoteFullPatches(ro: RolloutObject): PromotePatches {
  const s = ro.status;
  return {
    ...(s?.currentPodHash !== s?.stableRS ? { status: PROMOTE_FULL } : {}),
    ...(ro.spec.paused ? { spec: UNPAUSE } : {}),
    unified: { spec: { paused: false }, status: { promoteFull: true } },
  };
}

/** `undo`: a JSON Patch replacing the template with a ReplicaSet's, minus the rollouts-pod-template-hash label. */
export function undoPatch(template: unknown): Array<{ op: 'replace'; path: string; value: unknown }> {
  const t = structuredClone(template ?? {}) as { metadata?: { labels?: Record<string, string> } };
  if (t.metadata?.labels) delete t.metadata.labels[ROLLOUT_HASH];
  return [{ op: 'replace', path: '/spec/template', value: t }];
}

/** Templates compared as the plugin's `equalIgnoreHash` does: without the hash label. */
export function sameTemplate(a: unknown, b: unknown): boolean {
  const strip = (t: unknown) => JSON.stringify(sortKeys(undoPatch(t)[0]!.value));
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  return v;
}

/** Where the controller is, in words for the live message: its phase and message. */
export function controllerLine(ro: RolloutObject): string {
  const s = ro.status;
  if (!s?.phase) return 'the controller has not reported yet';
  return s.message ? `${s.phase}: ${s.message}` : s.phase;
}
