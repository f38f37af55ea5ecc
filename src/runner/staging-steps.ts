// The staging rehearsal of a production release: a rolling update of staging, then its gate
// against production's live version (metrics and smoke results), which blocks promotion on any
// regression whatever the plan says.
import { STEP, type StepOutcome } from './steps.js';
import { liveSmoke, record, testCounts, type StepContext } from './step-context.js';

/** Staging always gets a rolling update: it is a rehearsal, not a traffic experiment. */
export async function stagingDeploy(ctx: StepContext): Promise<StepOutcome> {
  const ref = ctx.stagingRef!;
  const drv = ctx.drivers('rolling', ref.context);
  const { run } = ctx;
  let st = run.data.stagingRolloutState ?? (await drv.prepare(ref, run.plan));
  run.data.stagingRolloutState = st;
  ctx.save();
  if (!run.data.stagingBaselineSamples || !run.data.productionReferenceSamples) {
    // Staging's own baseline and production's live version (the staging gate's reference: its
    // metrics and its smoke results), side by side.
    const [b, prod, prodSmoke] = await Promise.all([
      ctx.analysis.baseline(run.plan, drv.tracks(ref, st).baseline, ctx.signal),
      ctx.driver.liveTrack(ctx.ref).then((track) => ctx.analysis.baseline(run.plan, track, ctx.signal)),
      liveSmoke(ctx),
    ]);
    run.data.stagingBaselineSamples = b.samples;
    if (b.sample) run.data.stagingBaseline = b.sample;
    run.data.productionReferenceSamples = prod.samples;
    if (prodSmoke) run.data.productionReferenceSmoke = prodSmoke;
    ctx.save();
  }
  try {
    for (const s of drv.stages(run.plan, st)) {
      ctx.progress(`staging: ${s.title}`);
      st = await drv.applyStage(ref, st, s, ctx.signal);
      run.data.stagingRolloutState = st;
      ctx.save();
    }
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = (err as Error).message;
    return { status: 'failed', detail: why, next: { kind: 'rollback', reason: `staging deploy failed: ${why}` } };
  }
  return { status: 'done', detail: `staging runs ${run.plan.version}` };
}

export async function stagingGate(ctx: StepContext): Promise<StepOutcome> {
  const ref = ctx.stagingRef!;
  const drv = ctx.drivers('rolling', ref.context);
  const { run } = ctx;
  const st = run.data.stagingRolloutState!;
  const tracks = drv.tracks(ref, st);
  const res = await ctx.analysis.monitor({
    plan: run.plan,
    candidate: tracks.candidate,
    baseline: tracks.baseline,
    baselineSamples: run.data.stagingBaselineSamples ?? [],
    windowSec: run.plan.stageWindowSec,
    signals: () => drv.signals(ref, st),
    signal: ctx.signal,
    skip: ctx.skip,
    onSample: ctx.progress,
  });
  record(ctx, STEP.stagingGate, res);
  const checks = ctx.service.smoke.length ? await ctx.analysis.smoke(drv.smokeBaseUrl(ref, st), ctx.service.smoke, ctx.signal) : [];
  const failed = checks.filter((c) => !c.ok && c.critical);
  if (failed.length) {
    const why = `staging smoke checks failed: ${failed.map((c) => `${c.name} (${c.detail})`).join(', ')}`;
    return { status: 'failed', detail: why, next: { kind: 'rollback', reason: why } };
  }
  // Staging against production's baseline: a regression blocks promotion, whatever the plan says.
  // The smoke results count as tests: a check production passes and staging fails is a regression.
  const reference = run.data.productionReferenceSmoke;
  const tests = reference && checks.length ? { before: testCounts(reference), after: testCounts(checks) } : undefined;
  const gateDecision =
    res.decision.verdict !== 'CONTINUE'
      ? res.decision
      : ctx.analysis.gate(
          { ...run.plan, rollbackOnRegression: true },
          run.data.productionReferenceSamples ?? [],
          res.candidateSamples,
          'staging',
          tests,
        );
  if (gateDecision !== res.decision)
    (run.data.decisions ??= []).push({ step: STEP.stagingGate, at: ctx.clock.now(), decision: gateDecision });
  if (gateDecision.verdict === 'ROLLBACK') {
    return {
      status: 'failed',
      detail: gateDecision.explanation,
      next: { kind: 'rollback', reason: `staging regression gate: ${gateDecision.explanation}` },
    };
  }
  if (gateDecision.verdict === 'INCONCLUSIVE') {
    return { status: 'warning', detail: gateDecision.explanation, next: { kind: 'ask', decision: gateDecision } };
  }
  run.data.stagingRolloutState = await drv.promote(ref, st);
  return { status: 'done', detail: `${res.line}${checks.length ? `; ${checks.length} smoke checks passed` : ''}` };
}
