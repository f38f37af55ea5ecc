// monitorWindow and captureBaseline end to end: the sandbox cluster at 50× speed, a real
// canary stage made by the CanaryDriver over @kubernetes/client-node, samples from the sandbox's
// metrics API, and the judge deciding.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile } from '../../src/config.js';
import { CanaryDriver, kubeFromKubeconfig, type WorkloadRef } from '../../src/cluster/index.js';
import { rulesFromDefaults } from '../../src/domain/judge.js';
import { DeployPlan } from '../../src/domain/types.js';
import { captureBaseline, monitorWindow, type MonitorTick } from '../../src/metrics/monitor.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

const cfg = loadConfigFile('data/shipbot.yml');
const rules = rulesFromDefaults(cfg.defaults);
const SPEED = 50; // at most: on a busy machine each tick's HTTP calls take clock time too

let sandbox: Sandbox;
let clock: ScaledClock;
let driver: CanaryDriver;
let source: SandboxMetricSource;

function ref(service: string): WorkloadRef {
  const s = cfg.services.find((x) => x.name === service)!;
  return { ...s.environments.production, serviceName: s.name, imageRepo: s.image };
}
function plan(service: string, version: string) {
  return DeployPlan.parse({
    service,
    version,
    environment: 'production',
    strategy: 'canary',
    risk: 'medium',
    slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.5 },
    dbMigration: false,
    rollbackTolerance: 'minutes',
    observationSec: 0,
    stageWindowSec: 300,
    monitoringIntervalSec: 30,
    canarySteps: [5, 25, 50, 100],
    regressionThresholdPct: 2,
    rollbackOnRegression: true,
  });
}

/** Puts `version` on a 5% canary of `service` and returns what monitorWindow needs. */
async function canaryAt5(service: string, version: string) {
  const r = ref(service);
  const p = plan(service, version);
  const state = await driver.prepare(r, p);
  const stage = driver.stages(p)[0]!;
  let applied = state;
  let stageError: Error | undefined;
  try {
    applied = await driver.applyStage(r, state, stage);
  } catch (err) {
    stageError = err as Error; // pods that never become Ready: the signals will say why
  }
  return { r, p, state: applied, stage, stageError, tracks: driver.tracks(r, applied), signals: () => driver.signals(r, applied) };
}

beforeAll(async () => {
  clock = new ScaledClock(SPEED);
  sandbox = await startSandbox({ demo: true, clock, config: cfg, podStartMs: 3000 });
  driver = new CanaryDriver({ kube: kubeFromKubeconfig(sandbox.kubeconfigYaml()), clock, pollMs: 1000 });
  source = new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch });
  // Let the demo services serve a few minutes of traffic (clock time) before anything moves.
  await clock.sleep(180_000);
});
afterAll(() => sandbox?.close());

describe('captureBaseline', () => {
  it('samples the live version on the interval, with the smoke pass rate', async () => {
    const r = ref('search');
    const b = await captureBaseline({
      source,
      track: { namespace: r.namespace, service: r.serviceName, track: 'stable' },
      clock,
      samples: 5,
      intervalSec: 30,
      smoke: {
        checks: cfg.services[0]!.smoke,
        baseUrl: `${sandbox.url}/api/v1/namespaces/production/services/search/proxy`,
        options: { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch },
      },
    });
    expect(b.fromHistory).toBe(false);
    expect(b.samples).toHaveLength(5);
    expect(b.summary.errorRate).toBeGreaterThan(0);
    expect(b.summary.errorRate).toBeLessThan(0.01);
    expect(b.summary.p99Ms).toBeGreaterThan(b.summary.p50Ms);
    expect(b.summary.throughputRps).toBeGreaterThan(100);
    expect(b.smoke?.passRate).toBe(1);
  });
});

describe('monitorWindow on a 5% canary', () => {
  it('an -errors canary is rolled back before the window ends, with a readable reason', async () => {
    const c = await canaryAt5('checkout', 'v1.2.3-errors');
    expect(c.stageError).toBeUndefined();
    const ticks: MonitorTick[] = [];
    const d = await monitorWindow({
      source,
      tracks: c.tracks,
      plan: c.p,
      rules,
      clock,
      windowSec: 300,
      intervalSec: 30,
      trafficPct: c.stage.trafficPct,
      signals: c.signals,
      onSample: (t) => ticks.push(t),
    });
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.endedEarly).toBe(true);
    expect(d.watchedSec).toBeLessThan(300);
    // Whichever rule is sure first (the baseline comparison or the SLO), the reason names the numbers.
    expect(d.explanation).toMatch(
      /^error rate \d+\.\d% on canary (vs 0\.\d+% baseline \(\+\d+\.\d pts > 2 pts allowed\)|against the (availability|error-rate) SLO [\d.]+% \([\d.]+% errors allowed\)) over \d+ samples?/,
    );
    // Every tick reported, in order; the last carries the samples judged. (A tick whose read failed
    // or whose range reached back before the stage counts as a tick without a sample: under load
    // the sandbox's metrics can miss one.)
    expect(ticks.map((t) => t.index)).toEqual(ticks.map((_, i) => i + 1));
    expect(ticks.at(-1)!.candidateSamples).toEqual(d.candidate);
    await driver.rollback(c.r, c.state);
  });

  it('a healthy canary continues at the end of the window', async () => {
    const c = await canaryAt5('payments', 'v1.2.3');
    const d = await monitorWindow({
      source,
      tracks: c.tracks,
      plan: c.p,
      rules,
      clock,
      windowSec: 300,
      intervalSec: 30,
      trafficPct: c.stage.trafficPct,
      signals: c.signals,
    });
    expect(d.findings.filter((f) => f.verdict !== 'CONTINUE')).toEqual([]);
    expect(d.verdict).toBe('CONTINUE');
    expect(d.endedEarly).toBe(false);
    expect(d.candidate.length).toBeGreaterThanOrEqual(rules.minSamples);
    expect(d.explanation).toMatch(/^canary healthy: error rate/);
    await driver.rollback(c.r, c.state);
  });

  it('a crashing canary is rolled back at once on its infrastructure signals', async () => {
    const c = await canaryAt5('search', 'v1.2.3-crash');
    const d = await monitorWindow({
      source,
      tracks: c.tracks,
      plan: c.p,
      rules,
      clock,
      windowSec: 300,
      intervalSec: 30,
      trafficPct: 5,
      signals: c.signals,
    });
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.candidate).toHaveLength(0); // decided before (or without) waiting for a metric sample
    expect(d.explanation).toMatch(/CrashLoopBackOff|restarted|failing health checks|progress deadline/);
    await driver.rollback(c.r, c.state);
  });

  it('a track with no traffic is INCONCLUSIVE, never a pass', async () => {
    const d = await monitorWindow({
      source,
      tracks: {
        candidate: { namespace: 'production', service: 'checkout', track: 'nobody' },
        baseline: { namespace: 'production', service: 'checkout', track: 'stable' },
      },
      plan: plan('checkout', 'v9'),
      rules,
      clock,
      windowSec: 150,
      intervalSec: 30,
      trafficPct: 5,
    });
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.explanation).toMatch(/no data for canary/);
    expect(d.failures.every((f) => f.kind === 'no-data')).toBe(true);
  });
});
