// A crash at each step of a production canary that goes through staging and migrates in both
// environments, and at each production step of blue-green and rolling: the runner is closed
// while that step runs (the database as a crash leaves it), a new Runner resumes from what was
// saved, and the release ends on the new version with each migration Job run once and the steps
// finished before the crash untouched. Plus, for every saved state of every strategy, what
// resumeDecision says (the pure half of the same table).
import { migrationJobName } from '../../src/cluster/migration-job.js';
import { BatchV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deployRequestFor, planFor, rolloutStateFor } from '../helpers/plan.js';
import type { ShipbotConfig } from '../../src/config.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import type { DeployPlan } from '../../src/domain/types.js';
import { resumeDecision } from '../../src/runner/model/next-move.js';
import { initialSteps, touching, withRollbackSteps, withStages } from '../../src/runner/model/steps.js';
import { type RunRecord, ownTarget } from '../../src/store/records.js';
import { REQUESTER, SHIPPED, servingImages, startWorld, started, until, type World } from './world.js';
import { outcomeOf } from '../../src/domain/run.js';
import { rolloutConfig } from '../helpers/rollouts.js';
import { havePostgres, NO_POSTGRES, type Postgres, startPostgres } from '../helpers/postgres.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

// The table runs on each store engine: SQLite, and a real Postgres on loopback.
let pgServer: Postgres | undefined;
beforeAll(async () => {
  if (havePostgres) pgServer = await startPostgres();
}, 60_000);
afterAll(() => pgServer?.close());
if (!havePostgres) console.warn(`crash table: the Postgres half skips: ${NO_POSTGRES}`);
const ENGINES = [
  { engine: 'sqlite', present: true },
  { engine: 'postgres', present: havePostgres },
];
const store = async (engine: string) => (engine === 'postgres' ? { databaseUrl: await pgServer!.database() } : {});

function withMigrations(): ShipbotConfig {
  const cfg = structuredClone(SHIPPED);
  cfg.services.find((s) => s.name === 'checkout')!.migration = {
    job: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'migrate' }] } } },
    timeoutSec: 120,
    backwardCompatible: true,
    always: false,
  };
  return cfg;
}

/**
 * Closes the runner while `stepKey` runs (what a crash leaves), starts a new one on the same
 * database, and checks the run resumes there and ends on v1.2.3 with the steps done before the
 * crash untouched and the lock freed.
 */
async function crashAndResume(w: World, runId: string, stepKey: string): Promise<void> {
  const at = await until(w.runner, runId, (r) => r.steps.some((s) => s.key === stepKey && s.status === 'running'));
  expect(at.steps.map((s) => s.key)).toContain(stepKey);
  await w.runner.close();
  const before = (await w.store.getRun(runId))!;

  const runner = w.restart();
  expect(await runner.resumeInFlight()).toEqual([{ runId, action: 'resume', note: expect.stringMatching(/^resuming at "/) }]);
  const done = (await runner.settled(runId))!;
  expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
  for (const s of before.steps.filter((x) => x.status === 'done')) {
    expect(
      done.steps.find((x) => x.key === s.key),
      s.key,
    ).toMatchObject({ status: 'done', startedAt: s.startedAt, endedAt: s.endedAt });
  }
  // v1.2.3; after a staging rehearsal, production runs the digest staging's pods pulled.
  const artifact = (await runner.record(runId))!.data.artifact;
  const exact = artifact?.environment === 'staging' ? artifact.image : 'registry.example.com/shop/checkout:v1.2.3';
  expect(await servingImages(w, 'checkout')).toEqual([exact]);
  expect(await runner.getLock('checkout', 'production')).toBeUndefined();
}

describe.each(ENGINES)('$engine: a crash at each step resumes and finishes with nothing lost or done twice', ({ engine, present }) => {
  (present ? it : it.skip).each([
    'staging-migration',
    'staging-deploy',
    'staging-gate',
    'migration',
    'prepare',
    'baseline',
    'stage:canary-50',
    'stage:canary-100',
    'smoke',
    'regression-gate',
    'promote',
  ])('crash during %s', async (stepKey) => {
    w = await startWorld({ config: withMigrations(), speed: 100, ...(await store(engine)) });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [50, 100], dbMigration: true }));
    await crashAndResume(w, run.id, stepKey);
    const batch = kubeFromKubeconfig(w.sandbox.kubeconfigYaml()).kc.makeApiClient(BatchV1Api);
    // One Job per environment: staging's runs the tag, production's the build staging pulled.
    const pinned = (await w.runner.record(run.id))!.data.artifact!.image;
    for (const [ns, image] of [
      ['staging', 'registry.example.com/shop/checkout:v1.2.3'],
      ['production', pinned],
    ] as const) {
      const jobs = (await batch.listNamespacedJob({ namespace: ns })).items;
      expect(jobs.map((j) => [j.metadata?.name, j.status?.succeeded])).toEqual([[migrationJobName('checkout', ns, 'v1.2.3', image), 1]]);
    }
  });
});

describe.each(ENGINES)(
  '$engine: a crash at each production step of blue-green and rolling resumes and finishes on the new version',
  ({ engine, present }) => {
    (present ? it : it.skip).each([
      ...['prepare', 'baseline', 'stage:deploy-idle', 'smoke', 'stage:cutover', 'regression-gate', 'promote'].map((k) => ['blue-green', k]),
      ...['prepare', 'baseline', 'stage:rolling-update', 'smoke', 'regression-gate', 'promote'].map((k) => ['rolling', k]),
    ])('%s: crash during %s', async (strategy, stepKey) => {
      w = await startWorld({ speed: 100, ...(await store(engine)) });
      const run = started(await w.deploy(`deploy checkout v1.2.3 ${strategy}`));
      await crashAndResume(w, run.id, stepKey);
    });
  },
);

describe('a crash at each step of a canary Argo Rollout resumes from what the Rollout says: nothing sent twice', () => {
  it.each([
    'prepare',
    'baseline',
    'stage:ro-0',
    'stage:ro-1',
    'stage:ro-2',
    'stage:ro-3',
    'stage:ro-4',
    'stage:ro-stable',
    'smoke',
    'regression-gate',
    'promote',
  ])('crash during %s', async (stepKey) => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    const world = w;
    const run = started(await world.deploy('deploy checkout v1.2.3 canary'));
    // Whoever runs it presses Accept at the Rollout's open pause, before and after the restart.
    const accept = (runner: typeof world.runner) =>
      runner.subscribe((ev) => {
        if (ev.type === 'run-updated' && ev.run.id === run.id && ev.run.phase.status === 'awaiting-decision')
          void runner.command(run.id, 'accept', REQUESTER);
      });
    const off = accept(world.runner);
    await until(world.runner, run.id, (r) => r.steps.some((s) => s.key === stepKey && s.status === 'running'));
    await world.runner.close();
    off();
    const runner = world.restart();
    accept(runner);
    await runner.resumeInFlight();
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(await servingImages(world, 'checkout')).toEqual(['registry.example.com/shop/checkout:v1.2.3']);
    // Each of the plugin's calls at most once: one image update, one promote, no abort.
    const writes = world.sandbox
      .auditLog()
      .filter((e) => e.requestURI.includes('/rollouts/checkout'))
      .map((e) => `${e.verb} ${e.requestURI.replace(/\?.*$/, '').replace(/^.*\/rollouts\//, '')} ${e.verb === 'update' ? '' : e.body}`);
    expect(writes.filter((x) => x.startsWith('update'))).toHaveLength(1);
    expect(writes.filter((x) => x.includes('pauseConditions'))).toEqual(['patch checkout/status {"status":{"pauseConditions":null}}']);
    expect(writes.filter((x) => x.includes('abort'))).toEqual([]);
    expect(writes.filter((x) => x.includes('"paused":true')).length).toBeLessThanOrEqual(1);
  });
});

describe('resumeDecision for every saved state', () => {
  const plan = (strategy: DeployPlan['strategy']): DeployPlan => planFor({ strategy, dbMigration: true });
  const STAGES = {
    canary: [5, 50].map((p) => ({ key: `canary-${p}`, title: `canary ${p}%`, trafficPct: p, monitor: true })),
    'blue-green': [
      { key: 'deploy-idle', title: 'deploy idle colour', trafficPct: 0, monitor: false },
      { key: 'cutover', title: 'cutover', trafficPct: 100, monitor: true },
    ],
    rolling: [{ key: 'rolling-update', title: 'rolling update', trafficPct: 100, monitor: true }],
  } as const;

  /** The record as saved when step `at` was running: every step before it done (rolling back: after a stage). */
  function savedAt(strategy: DeployPlan['strategy'], at: number, rollingBack: boolean): RunRecord {
    let steps = withStages(initialSteps(plan(strategy), true, { staging: true, target: true }), [...STAGES[strategy]]);
    if (rollingBack) {
      const firstStage = steps.findIndex((s) => s.key.startsWith('stage:'));
      steps = withRollbackSteps(
        steps.map((s, i) => (i <= firstStage ? { ...s, status: i === firstStage ? ('running' as const) : ('done' as const) } : s)),
        'error rate',
      );
    }
    const settled = (st: string) => st === 'done' || st === 'warning' || st === 'skipped';
    const open = steps.map((s, i) => (settled(s.status) ? -1 : i)).filter((i) => i >= 0);
    const target = open[at]!;
    steps = steps.map((s, i) =>
      i === target ? { ...s, status: 'running' as const } : i < target && !settled(s.status) ? { ...s, status: 'done' as const } : s,
    );
    const prepared = steps.some((s) => s.key === 'prepare' && s.status === 'done');
    return {
      id: 'r-1',
      service: 'checkout',
      environment: 'production',
      version: 'v1.2.3',
      strategy,
      plan: plan(strategy),
      request: deployRequestFor(plan(strategy)),
      phase: rollingBack
        ? { status: 'rolling-back', rollback: { reason: 'error rate', by: 'shipbot', at: 0, automatic: true } }
        : { status: 'running' },
      restarts: [],
      requester: { userId: 'U_DEV' },
      origin: { kind: 'terminal' },
      steps,
      data: {},
      // As the loop leaves it: a target is touched once a step that changes it has started.
      targets: steps
        .filter((s) => s.status !== 'pending' && s.status !== 'skipped')
        .reduce((t, s) => touching(t, s.key, 1), [
          { environment: 'staging' },
          { environment: 'production', ...(prepared ? { rollout: rolloutStateFor(strategy) } : {}) },
        ] as RunRecord['targets']),
      createdAt: 0,
      updatedAt: 0,
    };
  }
  const openSteps = (strategy: DeployPlan['strategy'], rollingBack: boolean) =>
    savedAt(strategy, 0, rollingBack).steps.filter((s) => s.status === 'pending' || s.status === 'running').length;

  for (const strategy of ['canary', 'blue-green', 'rolling'] as const) {
    for (const rollingBack of [false, true]) {
      it(`${strategy}${rollingBack ? ', while rolling back' : ''}: resumes at the step that was running, at every step`, () => {
        const n = openSteps(strategy, rollingBack);
        expect(n).toBeGreaterThan(rollingBack ? 3 : 12);
        for (let at = 0; at < n; at++) {
          const rec = savedAt(strategy, at, rollingBack);
          const running = rec.steps.find((s) => s.status === 'running')!;
          expect(resumeDecision(rec, true), `${strategy} at ${running.key}`).toEqual({
            action: 'resume',
            step: running.key,
            note: `resuming at "${running.title}"`,
          });
          // The same record without its rollout state stops once traffic may have moved.
          const { rollout: _lost, ...own } = ownTarget(rec);
          const lost = { ...rec, targets: [...rec.targets.slice(0, -1), own] };
          const d = resumeDecision(lost, true);
          const moved =
            ownTarget(rec).rollout !== undefined &&
            (running.key.startsWith('stage:') || ['smoke', 'regression-gate', 'promote'].includes(running.key) || rollingBack);
          expect(d.action, `${strategy} at ${running.key} without its state`).toBe(moved ? 'stop' : 'resume');
        }
      });
    }
  }
});
