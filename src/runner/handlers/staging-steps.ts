// The staging rehearsal of a production release: a rolling update of staging, then its gate
// against production's live version (metrics and smoke results), which blocks promotion on any
// regression whatever the plan says.
import { STEP, type StepOutcome } from '../model/steps.js';
import { observe, pinArtifact, prepareTarget, targetBaseline } from './target-steps.js';
import { liveSmoke, releaseTarget, record, smokeFailed, stagingTarget, state, testCounts, type StepContext } from './step-context.js';

/** The staging rehearsal's rollout: prepare, staging's baseline beside production's live version, then every stage. */
export async function stagingDeploy(ctx: StepContext): Promise<StepOutcome> {
  const t = stagingTarget(ctx)!;
  const { run } = ctx;
  let st = await prepareTarget(ctx, t);
  if (!t.data.baselineSamples || !t.data.reference) {
    // Staging's own baseline and production's live version (the staging gate's reference: its
    // metrics and its smoke results), side by side.
    const main = releaseTarget(ctx);
    const [, prod, prodSmoke] = await Promise.all([
      targetBaseline(ctx, t, false),
      main.driver.liveTrack(main.ref).then((track) => ctx.analysis.baseline(run.plan, track, ctx.signal)),
      liveSmoke(ctx, main),
    ]);
    ctx.commit({
      target: { environment: 'staging', set: { reference: { samples: prod.samples, ...(prodSmoke ? { smoke: prodSmoke } : {}) } } },
    });
  }
  try {
    for (const s of t.driver.stages(run.plan, st)) {
      ctx.progress(`staging: ${s.title}`);
      st = await t.driver.applyStage(t.ref, st, s, ctx.signal);
      ctx.commit({ target: { environment: 'staging', set: { rollout: st } } });
      await pinArtifact(ctx, t, st);
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = (err as Error).message;
    return { status: 'failed', detail: why, result: { kind: 'failed', reason: `staging deploy failed: ${why}` } };
  }
  return { status: 'done', detail: `staging runs ${run.plan.version}` };
}

export async function stagingGate(ctx: StepContext): Promise<StepOutcome> {
  const t = stagingTarget(ctx)!;
  const { run } = ctx;
  const st = state(t);
  const res = await observe(ctx, t, st, run.plan.stageWindowSec, undefined, ctx.progress);
  record(ctx, 'staging', STEP.stagingGate, res);
  const checks = ctx.service.smoke.length ? await ctx.analysis.smoke(t.driver.smokeBaseUrl(t.ref, st), ctx.service.smoke, ctx.signal) : [];
  const failed = checks.filter((c) => !c.ok && c.critical);
  if (failed.length) return smokeFailed(failed, 'staging smoke checks');
  // Staging against production's baseline: a regression blocks promotion, whatever the plan says.
  // The smoke results count as tests: a check production passes and staging fails is a regression.
  const reference = t.data.reference;
  const tests = reference?.smoke && checks.length ? { before: testCounts(reference.smoke), after: testCounts(checks) } : undefined;
  const gateDecision =
    res.decision.verdict !== 'CONTINUE'
      ? res.decision
      : ctx.analysis.gate({ ...run.plan, rollbackOnRegression: true }, reference?.samples ?? [], res.candidateSamples, 'staging', tests);
  if (gateDecision !== res.decision) record(ctx, 'staging', STEP.stagingGate, { decision: gateDecision });
  // A regression blocks promotion whatever the plan says; next-move.ts rolls staging back or asks.
  if (gateDecision.verdict !== 'CONTINUE') {
    return {
      status: 'failed',
      detail: gateDecision.explanation,
      result: { kind: 'verdict', decision: gateDecision, blocks: true, reason: 'staging regression gate: ' },
    };
  }
  ctx.commit({ target: { environment: 'staging', set: { rollout: await t.driver.promote(t.ref, st) } } });
  return { status: 'done', detail: `${res.line}${checks.length ? `; ${checks.length} smoke checks passed` : ''}` };
}
