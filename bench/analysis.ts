// Time from a fault's onset (the canary starts failing) to the ROLLBACK decision, at the default
// monitoring interval and stage window of data/shipbot.yml, on the sandbox with a fast clock.
// Figures are in clock (simulated) seconds, so they read as in production; plus the cost of one
// canary judgment in real microseconds.
import { ScaledClock } from '../src/clock.js';
import { loadConfigFile } from '../src/config.js';
import { CanaryDriver, kubeFromKubeconfig, type WorkloadRef } from '../src/cluster/index.js';
import { judgeCanary, rulesFromDefaults } from '../src/domain/judge.js';
import { DeployPlan, type MetricSample } from '../src/domain/types.js';
import { monitorWindow } from '../src/metrics/monitor.js';
import { SandboxMetricSource } from '../src/metrics/sandbox.js';
import { startSandbox } from '../src/sandbox/index.js';

type Figure = { name: string; value: number; unit: string; note?: string };

const SPEED = 50;

export async function benchAnalysis(): Promise<Figure[]> {
  const cfg = loadConfigFile('data/shipbot.yml');
  const d = cfg.defaults;
  const rules = rulesFromDefaults(d);
  const clock = new ScaledClock(SPEED);
  const sandbox = await startSandbox({ demo: true, clock, config: cfg, podStartMs: 3000 });
  const driver = new CanaryDriver({ kube: kubeFromKubeconfig(sandbox.kubeconfigYaml()), clock, pollMs: 1000 });
  const source = new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch });
  const figures: Figure[] = [];
  try {
    await clock.sleep(120_000); // two minutes of baseline traffic first
    const service = cfg.services[0]!;
    const ref: WorkloadRef = { ...service.environments.production, serviceName: service.name, imageRepo: service.image };

    /** Clock seconds to revert the canary and see the old version serve 100% again. */
    const restore = async (state: Parameters<typeof driver.rollback>[1]): Promise<number> => {
      const t0 = clock.now();
      const verified = await driver.verifyRollback(ref, await driver.rollback(ref, state));
      if (!verified.ok) throw new Error(`rollback not verified: ${verified.detail}`);
      return (clock.now() - t0) / 1000;
    };

    /** One canary at the first step; clock seconds from onset to the decision, and to traffic restored. */
    const trial = async (version: string): Promise<{ sec: number; restoredSec: number; verdict: string; samples: number; why: string }> => {
      const plan = DeployPlan.parse({
        service: service.name,
        version,
        environment: 'production',
        strategy: 'canary',
        risk: 'medium',
        slo: service.slo ?? d.slo,
        dbMigration: false,
        rollbackTolerance: 'minutes',
        observationSec: 0,
        stageWindowSec: d.stageWindowSec,
        monitoringIntervalSec: d.monitoringIntervalSec,
        canarySteps: d.canarySteps,
        regressionThresholdPct: d.regressionThresholdPct.medium,
        rollbackOnRegression: true,
      });
      const state = await driver.prepare(ref, plan);
      const stage = driver.stages(plan)[0]!;
      // Onset: the faulty pods are created. A crash or OOM shows while the stage is applied (the
      // driver fails the stage on the pods' signals); errors and slowness once the pods serve.
      const onset = clock.now();
      let applied = state;
      try {
        applied = await driver.applyStage(ref, state, stage);
      } catch (err) {
        const sec = (clock.now() - onset) / 1000;
        const restoredSec = sec + (await restore(state));
        await clock.sleep(60_000);
        return { sec, restoredSec, verdict: 'ROLLBACK', samples: 0, why: `stage failed: ${(err as Error).message.split('\n')[0]}` };
      }
      const serving = clock.now();
      const decision = await monitorWindow({
        source,
        tracks: driver.tracks(ref, applied),
        plan,
        rules,
        clock,
        windowSec: plan.stageWindowSec,
        intervalSec: plan.monitoringIntervalSec,
        trafficPct: stage.trafficPct,
        signals: () => driver.signals(ref, applied),
      });
      const sec = (clock.now() - serving) / 1000;
      const restoredSec = sec + (await restore(applied));
      await clock.sleep(60_000); // let the canary pods go before the next trial
      return { sec, restoredSec, verdict: decision.verdict, samples: decision.candidate.length, why: decision.explanation };
    };

    for (const [fault, version] of [
      ['-errors', 'v2.0.0-errors'],
      ['-slow', 'v2.0.1-slow'],
      ['-crash', 'v2.0.2-crash'],
      ['-oom', 'v2.0.3-oom'],
    ] as const) {
      const t = await trial(version);
      figures.push({
        name: `${fault} canary (5%): onset → ${t.verdict}`,
        value: t.sec,
        unit: 'clock s',
        note: `interval ${d.monitoringIntervalSec}s, window ${d.stageWindowSec}s, ${t.samples} samples: ${t.why.slice(0, 90)}`,
      });
      figures.push({
        name: `${fault} canary (5%): onset → traffic restored`,
        value: t.restoredSec,
        unit: 'clock s',
        note: 'decision, then canary to zero and the old version verified at 100%',
      });
    }
  } finally {
    await sandbox.close();
  }

  // The judgment itself: 10 + 10 samples, as at the end of a default stage window.
  const sample = (i: number, rps: number, err: number): MetricSample => ({
    at: i * 30_000,
    windowSec: 30,
    requests: rps * 30,
    errorRate: err,
    p50Ms: 40 + (i % 3),
    p95Ms: 90 + (i % 7),
    p99Ms: 120 + (i % 11),
    throughputRps: rps,
  });
  const base = Array.from({ length: 10 }, (_, i) => sample(i, 190, 0.002));
  const cand = Array.from({ length: 10 }, (_, i) => sample(i, 10, 0.003));
  const N = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) judgeCanary(base, cand, { slo: d.slo }, rules, { candidateShare: 0.05, baselineShare: 0.95 });
  figures.push({ name: 'judgeCanary, 10 + 10 samples', value: ((performance.now() - t0) * 1000) / N, unit: 'µs/call' });
  return figures;
}
