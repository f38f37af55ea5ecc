// What each step does. A handler reads the run record, "ensures" its part (drivers are
// idempotent, so re-running an interrupted step is harmless), records what it learned through
// ctx.commit, and returns an outcome; the loop persists it and decides what happens next.
// Handlers never write the run themselves.
import { ownTarget } from '../../store/records.js';
import { activeFreeze, describeFreeze } from '../../domain/freeze.js';
import { windowReading } from '../../domain/reading.js';
import type { Decision } from '../../domain/types.js';
import type { RunRecord } from '../../store/records.js';
import { needsApproval } from '../../domain/permissions.js';
import { migrationStep } from './migration-step.js';
import { callChecks, type CheckRelease, checksLine } from '../http-checks.js';
import { schemaNote } from '../../domain/migration-policy.js';
import { reasonAfterName } from '../../domain/recommend.js';
import { PAUSE_RULE, rollbackOf } from '../../domain/run.js';
import { isStageStep, stageStepKey, STEP, type StepOutcome } from '../model/steps.js';

export type { StepOutcome } from '../model/steps.js';
export { tagOf, type StepContext } from './step-context.js';
import { observe, pinArtifact, prepareTarget, targetBaseline } from './target-steps.js';
import {
  askPerson,
  judged,
  releaseTarget,
  passCount,
  record,
  smokeFailed,
  state,
  tagOf,
  restoredTarget,
  type StepContext,
} from './step-context.js';
import { stagingDeploy, stagingGate } from './staging-steps.js';
import { commitReleaseStep, resumeOwnerStep, suspendOwnerStep } from './gitops-steps.js';

export async function executeStep(key: string, ctx: StepContext): Promise<StepOutcome> {
  if (isStageStep(key)) return stage(key, ctx);
  switch (key) {
    case STEP.confirm:
      return { status: 'done', detail: strategyLine(ctx.run, ctx.ref.kind === 'Rollout' ? ctx.ref.deployment : undefined) };
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
    case STEP.prePromotion:
      return prePromotionChecks(ctx);
    case STEP.suspendOwner:
      return suspendOwnerStep(ctx);
    case STEP.commitRelease:
      return commitReleaseStep(ctx);
    case STEP.resumeOwner:
      return resumeOwnerStep(ctx);
    case STEP.rollback:
      return rollback(ctx);
    case STEP.verifyRollback:
      return verifyRollback(ctx);
    case STEP.incident:
      return incident(ctx);
    case STEP.report:
      return { status: 'done', result: { kind: 'finish' } };
    default:
      return {
        status: 'failed',
        detail: `unknown step ${key}`,
        result: { kind: 'failed', reason: `Shipbot does not know the step "${key}"` },
      };
  }
}

/** The strategy in one line; with `rollout`, the Argo Rollout whose own steps the run follows. */
export function strategyLine(run: Readonly<RunRecord>, rollout?: string): string {
  const p = run.plan;
  const how = rollout
    ? `${p.strategy} through Rollout ${rollout}'s own steps`
    : p.strategy === 'canary'
      ? `canary ${p.canarySteps.join('% → ')}%`
      : p.strategy === 'blue-green'
        ? 'blue-green: new colour, smoke checks, cutover'
        : 'rolling update';
  // The line already names the strategy: its rationale says why, without naming it again.
  const why = reasonAfterName(p.strategy, rollout && p.rationale?.startsWith("the Rollout's own") ? '' : p.rationale);
  return `${how}, ${p.risk} risk${why ? ` — ${why}` : ''}`;
}

async function validate(ctx: StepContext): Promise<StepOutcome> {
  const { run, config, store, clock } = ctx;
  const checks: NonNullable<RunRecord['data']['validation']> = [];
  const preflight = await ctx.driver.preflight(ctx.ref, run.plan.version, run.plan);
  // Staging in another cluster: that cluster is touched first, so it is checked too.
  const staging = ctx.stagingRef;
  if (staging && staging.context !== ctx.ref.context) {
    for (const c of await ctx.drivers('rolling', staging).preflight(staging, run.plan.version))
      preflight.push({ ...c, name: `staging: ${c.name}` });
  }
  ctx.commit({ preflight });
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
  const lock = await store.getLock(run.service, run.environment);
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
  const queries = Object.values(ctx.service.metrics ?? {}).filter((q): q is string => typeof q === 'string');
  if (ctx.ref.kind === 'Rollout' && queries.some((q) => !q.includes('{{version}}') && !q.includes('{{podHash}}'))) {
    checks.push({
      name: 'metrics tell the versions apart',
      ok: false,
      severity: 'error',
      detail: `a Rollout's stable and canary pods carry the same labels but their image and ReplicaSet hash, so every metric query of ${run.service} must select {{version}} or {{podHash}} (e.g. pod_template_hash="{{podHash}}"); otherwise the judge would compare the service with itself`,
    });
  }
  if (ctx.service.checks.preDeploy.length) {
    for (const r of await callChecks(ctx.service.checks.preDeploy, release(run, 'pre-deploy')))
      checks.push({ name: `pre-deploy check ${r.name}`, ok: r.ok, severity: 'error', detail: r.detail });
  }
  if (run.plan.dbMigration && !ctx.ref.migration) {
    checks.push({
      name: 'database migration',
      ok: false,
      severity: 'warning',
      detail: `no migration Job is configured for ${run.service} (migration in shipbot.yml), so Shipbot does not run it; a rollback restores the code only: the migration must stay compatible with the previous version`,
    });
  }
  ctx.commit({ validation: checks });
  const errors = checks.filter((c) => !c.ok && c.severity === 'error');
  const warnings = checks.filter((c) => !c.ok && c.severity === 'warning');
  if (errors.length) {
    const why = errors.map((c) => `${c.name}: ${c.detail}`).join('; ');
    return { status: 'failed', detail: why, result: { kind: 'failed', reason: `pre-deployment validation failed — ${why}` } };
  }
  const passed = checks.length - warnings.length;
  return warnings.length
    ? { status: 'warning', detail: `${passed} checks passed; ${warnings.map((c) => `${c.name}: ${c.detail}`).join('; ')}` }
    : {
        status: 'done',
        detail: `${passed} checks passed (cluster health, rollback readiness, freeze, lock${needsApproval(run.plan, config) ? ', approval' : ''}${ctx.service.checks.preDeploy.length ? ', pre-deploy checks' : ''})`,
      };
}

async function prepare(ctx: StepContext): Promise<StepOutcome> {
  const t = releaseTarget(ctx);
  const st = await prepareTarget(ctx, t);
  ctx.commit({ stages: t.driver.stages(ctx.run.plan, st) });
  // A pinned build reads as its version, with the start of the digest staging's pods pulled.
  const to = tagOf(st.newImage).startsWith('sha256:') ? `${ctx.run.version} (${tagOf(st.newImage).slice(0, 19)}…)` : tagOf(st.newImage);
  return { status: 'done', detail: `from ${tagOf(st.previousImage)} to ${to}` };
}

async function baseline(ctx: StepContext): Promise<StepOutcome> {
  const b = await targetBaseline(ctx, releaseTarget(ctx));
  return b.sampled
    ? { status: 'done', detail: `${b.metrics}${b.smoke}` }
    : { status: 'warning', detail: `${b.metrics}; judging against the SLO targets only${b.smoke}` };
}

async function stage(key: string, ctx: StepContext): Promise<StepOutcome> {
  const { run } = ctx;
  const t = releaseTarget(ctx);
  let st = state(t);
  const s = t.driver.stages(run.plan, st).find((x) => stageStepKey(x) === key);
  if (!s) return { status: 'skipped', detail: 'this stage is no longer part of the plan' };
  ctx.progress(`applying: ${s.trafficPct}% of traffic to ${run.plan.version}`);
  try {
    st = await t.driver.applyStage(t.ref, st, s, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const why = (err as Error).message;
    return { status: 'failed', detail: why, result: { kind: 'failed', reason: `${s.title} failed: ${why}` } };
  }
  // What is really served (replica-ratio routing on a small Deployment rounds up), never the nominal share.
  const served = (st.strategy === 'canary' || st.strategy === 'argo-rollout') && st.servedPct !== undefined ? st.servedPct : s.trafficPct;
  const short = served !== s.trafficPct;
  const shareNote = short
    ? `${served}% of traffic (asked ${s.trafficPct}%: the nearest share replica counts allow)`
    : `${served}% of traffic`;
  ctx.commit({
    target: { environment: ctx.run.environment, set: { rollout: st } },
    stage: short ? `${s.title}, serving ${served}%` : s.title,
  });
  await pinArtifact(ctx, t, st);
  const controller = st.strategy === 'argo-rollout' && st.controller ? `; Rollout ${st.controller}` : '';
  const waiting = st.strategy === 'argo-rollout' ? st.waiting : undefined;
  if (s.waitsForAccept || waiting)
    return waitingForAccept(run, s.title, `${waiting ? `${waiting}; ` : ''}${shareNote} on ${run.plan.version}${controller}`);
  if (!s.monitor || run.plan.stageWindowSec <= 0) return { status: 'done', detail: `${shareNote} on ${run.plan.version}${controller}` };
  ctx.progress(`${shareNote} on ${run.plan.version}`);
  const res = await observe(ctx, t, st, run.plan.stageWindowSec, served, ctx.progress);
  record(ctx, ctx.run.environment, key, res);
  if (res.candidate && s.trafficPct >= 100)
    ctx.commit({ target: { environment: ctx.run.environment, set: { after: res.candidate, afterSamples: res.candidateSamples } } });
  // Every judged row says what it served, whether or not that was the share asked.
  return judged(short ? `serving ${served}% (asked ${s.trafficPct}%): ${res.line}` : `serving ${served}%: ${res.line}`, res.decision);
}

/** The workload waits for a person (a Rollout's pause without a duration): the run asks; Accept lets the next stage promote it. */
function waitingForAccept(run: Readonly<RunRecord>, title: string, detail: string): StepOutcome {
  const explanation = `${run.service}'s Rollout waits for a person at "${title}" (${detail}): Accept promotes it to its next step; Rollback aborts it and goes back to ${run.environment}'s stable version`;
  return { status: 'done', detail: `${detail}; waiting for Accept`, result: askPerson(PAUSE_RULE, explanation) };
}

/** What the team's HTTP checks are told about the release. */
function release(run: Readonly<RunRecord>, gate: CheckRelease['gate']): CheckRelease {
  return {
    gate,
    service: run.service,
    version: run.version,
    digest: run.data.artifact?.digest ?? null,
    environment: run.environment,
    runId: run.id,
  };
}

/** The team's checks before the release takes all the traffic: any failure stops it there (next-move.ts rolls back). */
async function prePromotionChecks(ctx: StepContext): Promise<StepOutcome> {
  const results = await callChecks(ctx.service.checks.prePromotion, release(ctx.run, 'pre-promotion'));
  const line = checksLine(results);
  if (results.every((r) => r.ok)) return { status: 'done', detail: line };
  const failed = checksLine(results.filter((r) => !r.ok));
  return { status: 'failed', detail: line, result: { kind: 'failed', reason: `pre-promotion checks failed — ${failed}` } };
}

async function smoke(ctx: StepContext): Promise<StepOutcome> {
  const { service } = ctx;
  if (!service.smoke.length) return { status: 'skipped', detail: 'no smoke checks configured for this service' };
  const t = releaseTarget(ctx);
  const results = await ctx.analysis.smoke(t.driver.smokeBaseUrl(t.ref, state(t)), service.smoke, ctx.signal);
  ctx.commit({ target: { environment: ctx.run.environment, set: { smoke: results } } });
  const critical = results.filter((r) => !r.ok && r.critical);
  const minor = results.filter((r) => !r.ok && !r.critical);
  if (critical.length) return smokeFailed(critical, 'smoke checks');
  const before = t.data.baselineSmoke ? ` (live version before: ${passCount(t.data.baselineSmoke)})` : '';
  return minor.length
    ? { status: 'warning', detail: `${passCount(results)}${before}; ${minor.map((c) => `${c.name}: ${c.detail}`).join(', ')}` }
    : { status: 'done', detail: `${passCount(results)}${before}` };
}

async function gate(ctx: StepContext): Promise<StepOutcome> {
  const { plan } = ctx.run;
  const t = releaseTarget(ctx);
  let line = 'no observation period';
  let monitorDecision: Decision | undefined;
  if (plan.observationSec > 0) {
    ctx.progress(`observing for ${plan.observationSec}s`);
    const res = await observe(ctx, t, state(t), plan.observationSec, undefined, (l) => ctx.progress(`observation — ${l}`));
    record(ctx, ctx.run.environment, STEP.gate, res);
    ctx.commit({
      target: {
        environment: ctx.run.environment,
        set: { ...(res.candidate ? { after: res.candidate } : {}), afterSamples: res.candidateSamples },
      },
    });
    line = res.line;
    monitorDecision = res.decision;
  }
  if (monitorDecision && monitorDecision.verdict !== 'CONTINUE') return judged(line, monitorDecision);
  // The run as it is now: a Promote pressed and the samples committed during the observation.
  if (ctx.run.data.promotedSteps?.includes(STEP.gate))
    return { status: 'done', detail: `promoted by a person before the observation ended; ${line}` };
  const main = ownTarget(ctx.run);
  const decision = ctx.analysis.gate(plan, main.baselineSamples ?? [], main.afterSamples ?? [], 'production');
  // The numbers the gate compared, read the way it read them: the report's "after" is this reading.
  const after = windowReading(main.afterSamples ?? []);
  const before = windowReading(main.baselineSamples ?? []);
  record(ctx, ctx.run.environment, STEP.gate, {
    decision,
    ...(after ? { candidate: after } : {}),
    ...(before ? { baseline: before } : {}),
  });
  if (after) ctx.commit({ target: { environment: ctx.run.environment, set: { after } } });
  return judged(decision.explanation, decision);
}

async function promote(ctx: StepContext): Promise<StepOutcome> {
  const t = releaseTarget(ctx);
  const st = await t.driver.promote(t.ref, state(t));
  ctx.commit({ target: { environment: ctx.run.environment, set: { rollout: st } }, stage: `${ctx.run.plan.version} serves all traffic` });
  return { status: 'done', detail: `${ctx.run.plan.version} is now the stable version` };
}

async function rollback(ctx: StepContext): Promise<StepOutcome> {
  const note = schemaNote(ctx.run.data.migrations);
  const schema = note ? `; ${note}` : '';
  const t = restoredTarget(ctx);
  if (!t) return { status: 'skipped', detail: 'nothing had changed in the cluster' };
  const st = await t.driver.rollback(t.ref, state(t));
  const back = tagOf(st.previousImage);
  if (t.environment === ctx.run.environment) {
    ctx.commit({ target: { environment: t.environment, set: { rollout: st } }, stage: `traffic back on ${back}; verifying` });
    return { status: 'done', detail: `traffic back on ${back}${schema}` };
  }
  ctx.commit({ target: { environment: t.environment, set: { rollout: st } } });
  return { status: 'done', detail: `staging back on ${back}; production was not touched${schema}` };
}

/** The rollback enters the audit trail as an incident; its file is written with the final report. */
function incident(ctx: StepContext): StepOutcome {
  const rb = rollbackOf(ctx.run);
  if (!rb) return { status: 'skipped', detail: 'nothing was rolled back' };
  ctx.audit('incident', rb.reason);
  return { status: 'done', detail: `incident recorded; ${ctx.run.id}-incident.md is written with the report` };
}

async function verifyRollback(ctx: StepContext): Promise<StepOutcome> {
  const t = restoredTarget(ctx);
  if (!t) return { status: 'skipped', detail: 'nothing to verify' };
  const v = await t.driver.verifyRollback(t.ref, state(t));
  ctx.commit({ verification: v });
  return v.ok
    ? { status: 'done', detail: v.detail }
    : { status: 'failed', detail: `${v.detail} — check ${ctx.run.service} in ${t.ref.namespace} by hand` };
}
