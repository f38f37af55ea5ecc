// What each step does. A handler reads the run record, "ensures" its part (drivers are
// idempotent, so re-running an interrupted step is harmless) and returns an outcome; the runner
// persists it and decides what happens next. Handlers never change the run's status themselves.
import { activeFreeze, describeFreeze } from '../domain/freeze.js';
import type { Decision } from '../domain/types.js';
import type { RunRecord } from '../store/records.js';
import { needsApproval } from '../domain/permissions.js';
import { migrationStep } from './migration-step.js';
import { schemaNote } from '../domain/migration-policy.js';
import { isStageStep, productionTouched, stageStepKey, STEP, withStages, type StepOutcome } from './steps.js';

export type { StepOutcome } from './steps.js';
export { tagOf, type StepContext } from './step-context.js';
import { judged, liveSmoke, passCount, record, state, tagOf, type StepContext } from './step-context.js';
import { stagingDeploy, stagingGate } from './staging-steps.js';

export async function executeStep(key: string, ctx: StepContext): Promise<StepOutcome> {
  if (isStageStep(key)) return stage(key, ctx);
  switch (key) {
    case STEP.confirm:
      return { status: 'done', detail: strategyLine(ctx.run) };
    case STEP.validate:
      return validate(ctx);
    case STEP.stagingMigration:
      return migrationStep(ctx.run, 'staging', ctx.stagingRef!, ctx.migrate, ctx);
    case STEP.migration:
      return migrationStep(ctx.run, ctx.run.environment, ctx.ref, ctx.migrate, ctx);
    case STEP.stagingDeploy:
      return stagingDeploy(ctx);
    case STEP.stagingGate:
      return stagingGate(ctx);
    case STEP.prepare:
      return prepare(ctx);
    case STEP.baseline:
      return baseline(ctx);
    case STEP.smoke:
      return smoke(ctx);
    case STEP.gate:
      return gate(ctx);
    case STEP.promote:
      return promote(ctx);
    case STEP.rollback:
      return rollback(ctx);
    case STEP.verifyRollback:
      return verifyRollback(ctx);
    case STEP.incident: {
      const file = await ctx.writeIncident();
      return { status: 'done', detail: file ? `incident recorded; ${file} is written with the report` : 'incident recorded' };
    }
    case STEP.report:
      return { status: 'done', next: { kind: 'finish' } };
    default:
      return { status: 'failed', detail: `unknown step ${key}`, next: { kind: 'fail', reason: `Shipbot does not know the step "${key}"` } };
  }
}

export function strategyLine(run: RunRecord): string {
  const p = run.plan;
  const how =
    p.strategy === 'canary'
      ? `canary ${p.canarySteps.join('% → ')}%`
      : p.strategy === 'blue-green'
        ? 'blue-green: new colour, smoke checks, cutover'
        : 'rolling update';
  return `${how}, ${p.risk} risk${p.rationale ? ` — ${p.rationale}` : ''}`;
}

async function validate(ctx: StepContext): Promise<StepOutcome> {
  const { run, config, store, clock } = ctx;
  const checks: NonNullable<RunRecord['data']['validation']> = [];
  const preflight = await ctx.driver.preflight(ctx.ref, run.plan.version, run.plan);
  // Staging in another cluster: that cluster is touched first, so it is checked too.
  const staging = ctx.stagingRef;
  if (staging && staging.context !== ctx.ref.context) {
    for (const c of await ctx.drivers('rolling', staging.context).preflight(staging, run.plan.version))
      preflight.push({ ...c, name: `staging: ${c.name}` });
  }
  run.data.preflight = preflight;
  for (const c of preflight) checks.push({ name: c.name, ok: c.ok, detail: c.detail, severity: c.severity });
  const freeze = activeFreeze(config.freezeWindows, run.environment, new Date(clock.now()));
  const overridden = run.data.freezeOverride;
  checks.push({
    name: 'freeze window',
    ok: !freeze || Boolean(overridden),
    severity: 'error',
    detail: !freeze
      ? 'no freeze in force'
      : overridden
        ? `${describeFreeze(freeze)} Overridden by ${overridden.by}: ${overridden.reason}`
        : describeFreeze(freeze),
  });
  const lock = store.getLock(run.service, run.environment);
  checks.push({
    name: 'lock',
    ok: lock?.runId === run.id,
    severity: 'error',
    detail:
      lock?.runId === run.id
        ? `${run.service} in ${run.environment} is locked for this run`
        : `the lock is held by ${lock?.holder ?? 'nobody'}`,
  });
  if (needsApproval(run.plan, config)) {
    const by = run.data.approvals?.find((x) => x.by !== run.requester.userId);
    checks.push({
      name: 'approval',
      ok: Boolean(by),
      severity: 'error',
      detail: by
        ? `approved by ${by.by}`
        : `${run.plan.risk}-risk production deploys need an approval from someone other than the requester`,
    });
  }
  if (run.plan.dbMigration && !ctx.ref.migration) {
    checks.push({
      name: 'database migration',
      ok: false,
      severity: 'warning',
      detail: `no migration Job is configured for ${run.service} (migration in shipbot.yml), so Shipbot does not run it; a rollback restores the code only: the migration must stay compatible with the previous version`,
    });
  }
  run.data.validation = checks;
  const errors = checks.filter((c) => !c.ok && c.severity === 'error');
  const warnings = checks.filter((c) => !c.ok && c.severity === 'warning');
  if (errors.length) {
    const why = errors.map((c) => `${c.name}: ${c.detail}`).join('; ');
    return { status: 'failed', detail: why, next: { kind: 'fail', reason: `pre-deployment validation failed — ${why}` } };
  }
  const passed = checks.length - warnings.length;
  return warnings.length
    ? { status: 'warning', detail: `${passed} checks passed; ${warnings.map((c) => `${c.name}: ${c.detail}`).join('; ')}` }
    : {
        status: 'done',
        detail: `${passed} checks passed (cluster health, rollback readiness, freeze, lock${needsApproval(run.plan, config) ? ', approval' : ''})`,
      };
}

async function prepare(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const st = await ctx.driver.prepare(ctx.ref, run.plan);
  run.rolloutState = st;
  run.steps = withStages(run.steps, ctx.driver.stages(run.plan, st));
  return { status: 'done', detail: `from ${tagOf(st.previousImage)} to ${tagOf(st.newImage)}` };
}

async function baseline(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  // The metrics and the smoke checks of what serves now, side by side, before any traffic moves.
  const [b, checks] = await Promise.all([
    ctx.analysis.baseline(run.plan, ctx.driver.tracks(ctx.ref, state(ctx)).baseline, ctx.signal),
    liveSmoke(ctx),
  ]);
  run.data.baselineSamples = b.samples;
  if (checks) run.data.baselineSmoke = checks;
  const smokeNote = checks ? `; smoke ${passCount(checks)} on the live version` : '';
  if (b.sample) {
    run.data.baseline = b.sample;
    return { status: 'done', detail: `${b.detail}${smokeNote}` };
  }
  return { status: 'warning', detail: `${b.detail}; judging against the SLO targets only${smokeNote}` };
}

async function stage(key: string, ctx: StepContext): Promise<StepOutcome> {
  const { run, driver, ref } = ctx;
  let st = state(ctx);
  const stages = driver.stages(run.plan, st);
  const s = stages.find((x) => stageStepKey(x) === key);
  if (!s) return { status: 'skipped', detail: 'this stage is no longer part of the plan' };
  ctx.progress(`applying: ${s.trafficPct}% of traffic to ${run.plan.version}`);
  try {
    st = await driver.applyStage(ref, st, s, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = (err as Error).message;
    return { status: 'failed', detail: why, next: { kind: 'rollback', reason: `${s.title} failed: ${why}` } };
  }
  // What is really served (replica-ratio routing on a small Deployment rounds up), never the nominal share.
  const served = typeof st.servedPct === 'number' ? st.servedPct : s.trafficPct;
  const short = served !== s.trafficPct;
  const shareNote = short
    ? `${served}% of traffic (asked ${s.trafficPct}%: the nearest share replica counts allow)`
    : `${served}% of traffic`;
  run.rolloutState = st;
  run.stage = short ? `${s.title}, serving ${served}%` : s.title;
  ctx.save();
  if (!s.monitor || run.plan.stageWindowSec <= 0) return { status: 'done', detail: `${shareNote} on ${run.plan.version}` };
  ctx.progress(`${shareNote} on ${run.plan.version}`);
  const tracks = driver.tracks(ref, st);
  const res = await ctx.analysis.monitor({
    plan: run.plan,
    candidate: tracks.candidate,
    baseline: tracks.baseline,
    baselineSamples: run.data.baselineSamples ?? [],
    trafficPct: served,
    windowSec: run.plan.stageWindowSec,
    signals: () => driver.signals(ref, st),
    signal: ctx.signal,
    skip: ctx.skip,
    onSample: ctx.progress,
  });
  record(ctx, key, res);
  if (res.candidate && s.trafficPct >= 100) {
    run.data.after = res.candidate;
    run.data.afterSamples = res.candidateSamples;
  }
  return judged(run, short ? `serving ${served}% (asked ${s.trafficPct}%): ${res.line}` : res.line, res.decision);
}

async function smoke(ctx: StepContext): Promise<StepOutcome> {
  const { run, service } = ctx;
  if (!service.smoke.length) return { status: 'skipped', detail: 'no smoke checks configured for this service' };
  const results = await ctx.analysis.smoke(ctx.driver.smokeBaseUrl(ctx.ref, state(ctx)), service.smoke, ctx.signal);
  run.data.smoke = results;
  const critical = results.filter((r) => !r.ok && r.critical);
  const minor = results.filter((r) => !r.ok && !r.critical);
  if (critical.length) {
    const why = `smoke checks failed: ${critical.map((c) => `${c.name} (${c.detail})`).join(', ')}`;
    return { status: 'failed', detail: why, next: { kind: 'rollback', reason: why } };
  }
  const before = run.data.baselineSmoke ? ` (live version before: ${passCount(run.data.baselineSmoke)})` : '';
  return minor.length
    ? { status: 'warning', detail: `${passCount(results)}${before}; ${minor.map((c) => `${c.name}: ${c.detail}`).join(', ')}` }
    : { status: 'done', detail: `${passCount(results)}${before}` };
}

async function gate(ctx: StepContext): Promise<StepOutcome> {
  const { run, driver, ref } = ctx;
  const st = state(ctx);
  const tracks = driver.tracks(ref, st);
  let line = 'no observation period';
  let monitorDecision: Decision | undefined;
  if (run.plan.observationSec > 0) {
    ctx.progress(`observing for ${run.plan.observationSec}s`);
    const res = await ctx.analysis.monitor({
      plan: run.plan,
      candidate: tracks.candidate,
      baseline: tracks.baseline,
      baselineSamples: run.data.baselineSamples ?? [],
      windowSec: run.plan.observationSec,
      signals: () => driver.signals(ref, st),
      signal: ctx.signal,
      skip: ctx.skip,
      onSample: (l) => ctx.progress(`observation — ${l}`),
    });
    record(ctx, STEP.gate, res);
    if (res.candidate) run.data.after = res.candidate;
    run.data.afterSamples = res.candidateSamples;
    line = res.line;
    monitorDecision = res.decision;
  }
  if (monitorDecision && monitorDecision.verdict !== 'CONTINUE') return judged(run, line, monitorDecision);
  if (run.data.promotedSteps?.includes(STEP.gate))
    return { status: 'done', detail: `promoted by a person before the observation ended; ${line}` };
  const decision = ctx.analysis.gate(run.plan, run.data.baselineSamples ?? [], run.data.afterSamples ?? [], 'production');
  (run.data.decisions ??= []).push({
    step: STEP.gate,
    at: ctx.clock.now(),
    decision,
    ...(run.data.after ? { candidate: run.data.after } : {}),
    ...(run.data.baseline ? { baseline: run.data.baseline } : {}),
  });
  return judged(run, `${decision.explanation}`, decision);
}

async function promote(ctx: StepContext): Promise<StepOutcome> {
  const st = await ctx.driver.promote(ctx.ref, state(ctx));
  ctx.run.rolloutState = st;
  ctx.run.stage = `${ctx.run.plan.version} serves all traffic`;
  return { status: 'done', detail: `${ctx.run.plan.version} is now the stable version` };
}

async function rollback(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const note = schemaNote(run.data.migrations);
  const schema = note ? `; ${note}` : '';
  if (run.rolloutState && productionTouched(run.steps)) {
    run.rolloutState = await ctx.driver.rollback(ctx.ref, run.rolloutState);
    run.stage = `rolled back to ${tagOf(run.rolloutState.previousImage)}`;
    return { status: 'done', detail: `traffic back on ${tagOf(run.rolloutState.previousImage)}${schema}` };
  }
  if (run.data.stagingRolloutState && ctx.stagingRef) {
    run.data.stagingRolloutState = await ctx
      .drivers('rolling', ctx.stagingRef.context)
      .rollback(ctx.stagingRef, run.data.stagingRolloutState);
    return {
      status: 'done',
      detail: `staging back on ${tagOf(run.data.stagingRolloutState.previousImage)}; production was not touched${schema}`,
    };
  }
  return { status: 'skipped', detail: 'nothing had changed in the cluster' };
}

async function verifyRollback(ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const useProd = run.rolloutState && productionTouched(run.steps);
  const st = useProd ? run.rolloutState : run.data.stagingRolloutState;
  const ref = useProd ? ctx.ref : ctx.stagingRef;
  if (!st || !ref) return { status: 'skipped', detail: 'nothing to verify' };
  const drv = useProd ? ctx.driver : ctx.drivers('rolling', ref.context);
  const v = await drv.verifyRollback(ref, st);
  if (run.data.rollback) run.data.rollback.verification = v;
  return v.ok
    ? { status: 'done', detail: v.detail }
    : { status: 'failed', detail: `${v.detail} — check ${run.service} in ${ref.namespace} by hand` };
}
