// The step loop on its own: no cluster and no metrics, only the interfaces the loop drives (a
// RolloutDriver and a RunAnalysis) played by recorders, over a real SQLite store. Each recorder
// reads the *saved* run as it is called, so these tests check the loop's promise that every
// change is on disk before the cluster is told anything, and how each outcome ends a run.
// End to end (real drivers on the sandbox), the crash table and the control tests cover the rest.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import type { RolloutDriver, RolloutState, Stage, WorkloadRef } from '../../src/cluster/types.js';
import type { Decision, MetricSample } from '../../src/domain/types.js';
import { type RunView, outcomeOf, pendingDecision, rollbackOf } from '../../src/domain/run.js';
import { createLogger } from '../../src/log.js';
import { Runner, type RunAnalysis } from '../../src/runner/index.js';
import { type RunRecord, ownTarget } from '../../src/store/records.js';
import { openStore, type Store } from '../../src/store/index.js';
import { deployRequestFor, planFor } from '../helpers/plan.js';
import { SHIPPED, withoutStaging } from './world.js';

const STAGE: Stage = { key: 'rolling-update', title: 'Rolling update', trafficPct: 100, monitor: true };
const sample: MetricSample = { at: 1, windowSec: 10, requests: 500, errorRate: 0.001, p50Ms: 20, p95Ms: 60, p99Ms: 90, throughputRps: 50 };
const verdict = (v: Decision['verdict'], explanation = v.toLowerCase()): Decision => ({
  verdict: v,
  explanation,
  findings: [{ rule: 'error-rate', verdict: v, detail: explanation }],
});

/** What the driver was asked, with the saved run as it stood at that moment. */
interface Call {
  name: string;
  saved: RunRecord;
}

function recordingDriver(store: Store, calls: Call[], fail: { at?: string } = {}): RolloutDriver {
  const seen = async (name: string) => {
    const saved = (await store.listRuns())[0];
    calls.push({ name, saved: (await store.getRun(saved!.id))! });
    if (fail.at === name) throw new Error(`${name} failed: the API server said 500`);
  };
  const state = (ref: WorkloadRef): RolloutState => ({
    strategy: 'rolling',
    previousImage: `${ref.imageRepo}:v1.2.2`,
    newImage: `${ref.imageRepo}:v1.2.3`,
    track: 'stable',
  });
  return {
    strategy: 'rolling',
    async preflight() {
      await seen('preflight');
      return [{ name: 'cluster health', ok: true, detail: 'nodes Ready', severity: 'error' }];
    },
    async prepare(ref) {
      await seen('prepare');
      return state(ref);
    },
    stages: () => [STAGE],
    async applyStage(_ref, st) {
      await seen('applyStage');
      return st;
    },
    async promote(_ref, st) {
      await seen('promote');
      return st;
    },
    async rollback(_ref, st) {
      await seen('rollback');
      return st;
    },
    async verifyRollback() {
      await seen('verifyRollback');
      return { ok: true, oldTrafficPct: 100, detail: 'all pods on v1.2.2' };
    },
    signals: async () => [],
    podsOf: async () => ({ candidate: [], baseline: [] }),
    pulledDigest: async () => undefined,
    tracks: (ref) => ({
      candidate: { namespace: ref.namespace, service: ref.serviceName, track: 'stable', version: 'v1.2.3' },
      baseline: { namespace: ref.namespace, service: ref.serviceName, track: 'stable', version: 'v1.2.2' },
    }),
    liveTrack: async (ref) => ({ namespace: ref.namespace, service: ref.serviceName, track: 'stable' }),
    smokeBaseUrl: () => 'http://checkout.invalid',
    liveBaseUrl: () => 'http://checkout.invalid',
  };
}

/** Analysis that answers each monitoring window with the next scripted verdict (the last repeats). */
function scriptedAnalysis(windows: Decision[], gate: Decision = verdict('CONTINUE')): RunAnalysis {
  let i = 0;
  return {
    baseline: async () => ({ samples: [sample], sample, detail: 'error 0.1%, p99 90 ms' }),
    monitor: async () => {
      const decision = windows[Math.min(i++, windows.length - 1)]!;
      return { decision, candidateSamples: [sample], candidate: sample, baseline: sample, line: decision.explanation, watchedSec: 10 };
    },
    smoke: async () => [{ name: 'health', ok: true, critical: true, detail: '200 in 3 ms' }],
    gate: () => gate,
  };
}

let dir: string;
let store: Store;
let runner: Runner | undefined;
const calls: Call[] = [];

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-loop-'));
  store = openStore(path.join(dir, 'shipbot.db'));
  calls.length = 0;
});

afterEach(async () => {
  await runner?.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

async function run(analysis: RunAnalysis, fail: { at?: string } = {}): Promise<{ view: RunView; rec: RunRecord }> {
  const config = withoutStaging(SHIPPED);
  runner = new Runner({
    store,
    config,
    clock: new ScaledClock(1000),
    drivers: () => recordingDriver(store, calls, fail),
    analysis,
    logger: createLogger('silent'),
    reportsDir: path.join(dir, 'reports'),
  });
  const plan = planFor({ strategy: 'rolling', risk: 'low', observationSec: 10, stageWindowSec: 10, monitoringIntervalSec: 5 });
  const started = await runner.start({
    request: deployRequestFor(plan),
    plan,
    requester: { userId: 'U_DEV', name: 'dev' },
    origin: { kind: 'terminal' },
  });
  if (!started.ok) throw new Error(started.message);
  const id = started.run.id;
  await new Promise<void>((resolve) => {
    const check = async () => {
      const v = (await runner!.get(id))!;
      if (['succeeded', 'failed', 'rolled-back', 'cancelled', 'awaiting-decision'].includes(v.phase.status)) resolve();
    };
    runner!.subscribe(() => void check());
    void check();
  });
  return { view: (await runner.get(id))!, rec: (await store.getRun(id))! };
}

const stepStatus = (rec: RunRecord, key: string) => rec.steps.find((s) => s.key === key)?.status;
const at = (name: string) => calls.find((c) => c.name === name)!.saved;

describe('the step loop', () => {
  it('runs the steps in order, and each cluster call finds its step running and what came before it saved', async () => {
    const { view, rec } = await run(scriptedAnalysis([verdict('CONTINUE')]));
    expect(view.phase.status, outcomeOf(view)).toBe('succeeded');
    expect(calls.map((c) => c.name)).toEqual(['preflight', 'prepare', 'applyStage', 'promote']);
    expect(stepStatus(at('preflight'), 'validate')).toBe('running');
    // prepare is about to change the cluster: the target is marked touched on disk first.
    expect(stepStatus(at('prepare'), 'prepare')).toBe('running');
    expect(ownTarget(at('prepare')).touchedAt).toBeDefined();
    expect(ownTarget(at('prepare')).rollout).toBeUndefined();
    // The stage finds prepare's rollout state and the baseline already saved.
    expect(stepStatus(at('applyStage'), 'stage:rolling-update')).toBe('running');
    expect(ownTarget(at('applyStage')).rollout?.strategy).toBe('rolling');
    expect(ownTarget(at('applyStage')).baselineSamples).toEqual([sample]);
    expect(stepStatus(at('promote'), 'regression-gate')).toBe('done');
    expect(ownTarget(rec).decisions?.map((d) => `${d.step} ${d.decision.verdict}`)).toEqual([
      'stage:rolling-update CONTINUE',
      'regression-gate CONTINUE',
      'regression-gate CONTINUE',
    ]);
    expect(rec.steps.every((s) => s.status === 'done' || s.status === 'skipped')).toBe(true);
    expect(await store.getLock('checkout', 'production')).toBeUndefined();
  });

  it('a ROLLBACK verdict rolls back at once, skips the forward steps, and keeps the lock', async () => {
    const { view, rec } = await run(scriptedAnalysis([verdict('ROLLBACK', 'error rate 8% vs 0.1%')]));
    expect(view.phase.status, outcomeOf(view)).toBe('rolled-back');
    expect(calls.map((c) => c.name)).toEqual(['preflight', 'prepare', 'applyStage', 'rollback', 'verifyRollback']);
    // The rollback was saved (steps and reason) before the driver was asked to revert.
    expect(rollbackOf(at('rollback'))?.reason).toBe('error rate 8% vs 0.1%');
    expect(stepStatus(at('rollback'), 'rollback')).toBe('running');
    expect(stepStatus(rec, 'stage:rolling-update')).toBe('failed');
    expect(stepStatus(rec, 'promote')).toBe('skipped');
    expect(rollbackOf(rec)?.verification?.ok).toBe(true);
    expect((await store.getLock('checkout', 'production'))?.kind).toBe('held');
  });

  it('an unclear verdict asks a person and changes nothing more', async () => {
    const { view, rec } = await run(scriptedAnalysis([verdict('INCONCLUSIVE', 'only 12 requests on the new version')]));
    expect(view.phase.status).toBe('awaiting-decision');
    expect(pendingDecision(rec)?.explanation).toBe('only 12 requests on the new version');
    expect(calls.map((c) => c.name)).toEqual(['preflight', 'prepare', 'applyStage']);
    expect(stepStatus(rec, 'stage:rolling-update')).toBe('warning');
  });

  it('a step that throws before the cluster changed fails the run and frees the lock', async () => {
    const { view, rec } = await run(scriptedAnalysis([verdict('CONTINUE')]), { at: 'preflight' });
    expect(view.phase.status).toBe('failed');
    expect(outcomeOf(view)).toMatch(/preflight failed: the API server said 500/);
    expect(calls.map((c) => c.name)).toEqual(['preflight']);
    expect(ownTarget(rec).touchedAt).toBeUndefined();
    expect(stepStatus(rec, 'prepare')).toBe('skipped');
    expect(await store.getLock('checkout', 'production')).toBeUndefined();
  });

  it('a step that throws after the cluster changed rolls back', async () => {
    const { view } = await run(scriptedAnalysis([verdict('CONTINUE')]), { at: 'promote' });
    expect(view.phase.status, outcomeOf(view)).toBe('rolled-back');
    expect(calls.map((c) => c.name)).toEqual(['preflight', 'prepare', 'applyStage', 'promote', 'rollback', 'verifyRollback']);
    expect(outcomeOf(view)).toMatch(/promote failed/);
  });
});
