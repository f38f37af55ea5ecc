// The steps every target goes through, the run's own environment and the staging rehearsal
// alike: prepare its rollout, capture what serves now, and watch the new version against it.
// Each records what it learned through ctx.commit.
import type { RolloutState } from '../../cluster/types.js';
import { repoOf } from '../../domain/image-ref.js';
import type { DeployPlan } from '../../domain/types.js';
import type { RunRecord } from '../../store/records.js';
import type { WindowVerdict } from '../analysis.js';
import { liveSmoke, passCount, state, type StepContext, type Target } from './step-context.js';

/**
 * Ensures the target's rollout objects exist. A state already saved is kept: prepare reads the
 * image serving now as the one to roll back to, which after a resume may be the new one.
 */
export async function prepareTarget(ctx: StepContext, t: Target): Promise<RolloutState> {
  const st = t.data.rollout ?? (await t.driver.prepare(t.ref, releasePlan(ctx.run)));
  ctx.commit({ target: { environment: t.environment, set: { rollout: st } } });
  return st;
}

/** The plan a target rolls out: once the release's first pods ran, pinned to the digest they pulled. */
export function releasePlan(run: Readonly<RunRecord>): DeployPlan {
  return run.data.artifact ? { ...run.plan, version: run.data.artifact.digest } : run.plan;
}

/**
 * After a stage's pods run: the first time, reads the digest the kubelet pulled for the release
 * and saves it, so every later environment and step uses exactly that build.
 */
export async function pinArtifact(ctx: StepContext, t: Target, st: RolloutState): Promise<void> {
  if (ctx.run.data.artifact) return;
  const digest = await t.driver.pulledDigest(t.ref, st.newImage);
  if (!digest) return;
  const image = `${repoOf(st.newImage)}@${digest}`;
  ctx.commit({ artifact: { digest, image, environment: t.environment, at: ctx.clock.now() } });
}

/** The metrics of the version the target serves now, and (given) smoke results beside them, before any traffic moves. */
export async function targetBaseline(
  ctx: StepContext,
  t: Target,
  withSmoke = true,
): Promise<{ metrics: string; smoke: string; sampled: boolean }> {
  const [b, checks] = await Promise.all([
    ctx.analysis.baseline(ctx.run.plan, t.driver.tracks(t.ref, state(t)).baseline, ctx.signal),
    withSmoke ? liveSmoke(ctx, t) : undefined,
  ]);
  ctx.commit({
    target: {
      environment: t.environment,
      set: { baselineSamples: b.samples, ...(b.sample ? { baseline: b.sample } : {}), ...(checks ? { baselineSmoke: checks } : {}) },
    },
  });
  return { metrics: b.detail, smoke: checks ? `; smoke ${passCount(checks)} on the live version` : '', sampled: Boolean(b.sample) };
}

/** Monitors the target's new version against its baseline for `windowSec` (a stage, an observation, a gate). */
export function observe(
  ctx: StepContext,
  t: Target,
  st: RolloutState,
  windowSec: number,
  trafficPct: number | undefined,
  onSample: (line: string) => void,
): Promise<WindowVerdict> {
  const tracks = t.driver.tracks(t.ref, st);
  const alerts = ctx.service.alerts;
  // What changed after this target began to change is the release's; before it, the baseline.
  const since = t.data.touchedAt ?? ctx.run.createdAt;
  return ctx.analysis.monitor({
    ...(ctx.service.gates.length ? { teamGates: { gates: ctx.service.gates, since } } : {}),
    ...(ctx.service.resources ? { resources: { config: ctx.service.resources, pods: () => t.driver.podsOf(t.ref, st) } } : {}),
    ...(alerts
      ? {
          alerts: {
            labels: fillLabels(alerts.labels, { service: t.ref.serviceName, namespace: t.ref.namespace }),
            policy: alerts,
            since,
          },
        }
      : {}),
    plan: ctx.run.plan,
    candidate: tracks.candidate,
    baseline: tracks.baseline,
    baselineSamples: t.data.baselineSamples ?? [],
    ...(trafficPct !== undefined ? { trafficPct } : {}),
    windowSec,
    signals: () => t.driver.signals(t.ref, st),
    signal: ctx.signal,
    skip: ctx.skip,
    onSample,
  });
}

/** `{{service}}` and `{{namespace}}` in an alert label's value, filled for this target. */
function fillLabels(labels: Record<string, string>, vars: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(labels).map(([k, v]) => [k, v.replace(/\{\{\s*(service|namespace)\s*\}\}/g, (_, n: string) => vars[n]!)]),
  );
}
