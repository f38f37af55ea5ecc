// A real Prometheus (Debian's `prometheus` package) scraping the sandbox's pods, then the
// Prometheus source and a full canary judgment through it (monitorWindow, the runner's own
// monitoring loop): healthy vs -errors; and the baseline from its history.
// The sandbox runs at real speed (clock 1×): Prometheus evaluates rate() in real time.
// Skips, saying why, when no `prometheus` binary is on PATH (.ci/run installs it).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile } from '../../src/config.js';
import { CanaryDriver, kubeFromKubeconfig, type WorkloadRef } from '../../src/cluster/index.js';
import { rulesFromDefaults } from '../../src/domain/judge.js';
import { DeployPlan } from '../../src/domain/types.js';
import { captureBaseline, monitorWindow } from '../../src/metrics/monitor.js';
import { PrometheusSource, renderQuery } from '../../src/metrics/prometheus.js';
import { createAnalysis } from '../../src/runner/analysis.js';
import type { TrackRef } from '../../src/cluster/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { promBin, startPrometheus, until, type RealPrometheus } from './real-prometheus.js';

if (!promBin) console.warn('skipping the real-Prometheus suite: no `prometheus` on PATH (apt-get install prometheus; .ci/run does)');

const cfg = loadConfigFile('data/shipbot.yml');
const rules = rulesFromDefaults(cfg.defaults);
const INTERVAL = 5; // seconds per sample: 5 scrapes at 1 s
const clock = new ScaledClock(1);

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
    stageWindowSec: 25,
    monitoringIntervalSec: INTERVAL,
    canarySteps: [5, 100],
    regressionThresholdPct: 2,
    rollbackOnRegression: true,
  });
}

describe.skipIf(!promBin)('a real Prometheus scraping the sandbox', () => {
  let sandbox: Sandbox;
  let prom: RealPrometheus | undefined;
  let source: PrometheusSource;
  let driver: CanaryDriver;
  let scrapingFrom = 0;
  const stable: TrackRef = { namespace: 'production', service: 'checkout', track: 'stable' };

  beforeAll(async () => {
    sandbox = await startSandbox({ demo: true, clock, config: cfg, podStartMs: 300 });
    driver = new CanaryDriver({ kube: kubeFromKubeconfig(sandbox.kubeconfigYaml()), clock, pollMs: 250 });
    // A 5% canary of the default 200 rps sees ~250 requests in this 25 s window: too few to rule
    // out a 2-point regression, so a healthy one would rightly be INCONCLUSIVE. 1000 rps gives ~1,250.
    for (const name of ['checkout', 'payments']) {
      const patched = await kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch(
        `${sandbox.url}/api/v1/namespaces/production/services/${name}`,
        {
          method: 'PATCH',
          headers: { 'content-type': 'application/merge-patch+json' },
          body: JSON.stringify({ metadata: { annotations: { 'sandbox.shipbot.dev/rps': '1000' } } }),
        },
      );
      expect(patched.status).toBe(200);
    }
    scrapingFrom = Date.now();
    prom = await startPrometheus(sandbox, 1);
    source = new PrometheusSource({ baseUrl: prom.url, queries: cfg.services[0]!.metrics!, timeoutMs: 3000, clock });
    // Data: every sandbox pod discovered and scraped, long enough for rate() over one interval.
    const targets = (
      (await (await kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch(`${sandbox.url}/sandbox/v1/targets`)).json()) as unknown[]
    ).length;
    await until(`Prometheus scraping all ${targets} sandbox pods`, 25_000, async () => {
      const up = await source.scalar('count(up{job="sandbox-pods"} == 1)');
      return up.ok && up.value >= targets ? true : undefined;
    });
    await until('stable checkout samples in Prometheus', 25_000, async () => {
      const s = await source.sample(stable, INTERVAL);
      return s.ok && s.sample.throughputRps > 150 ? s : undefined;
    });
  }, 90_000);

  afterAll(async () => {
    await prom?.close();
    await sandbox?.close();
  });

  it('PrometheusSource reads the stable track through the shipped PromQL templates', async () => {
    const out = await source.sample(stable, INTERVAL);
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    // ~200 rps over 20 pods, ~0.2% errors, p99 ≈ 120 ms (the sandbox baseline).
    expect(out.sample.throughputRps).toBeGreaterThan(100);
    expect(out.sample.errorRate).toBeLessThan(0.02);
    expect(out.sample.p99Ms).toBeGreaterThan(50);
    expect(out.sample.p99Ms).toBeLessThan(400);
    expect(out.sample.p50Ms).toBeLessThan(out.sample.p99Ms);
    // The shipped latencyBuckets template: requests slower than each `le`, falling, at most all of them.
    const h = out.sample.slowerThan!;
    expect(h.map(([ms]) => ms)).toEqual([5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 2500, 5000, 10000]);
    expect(h[0]![1]).toBeLessThanOrEqual(out.sample.requests);
    expect(h.every(([, n], i) => i === 0 || n <= h[i - 1]![1])).toBe(true);
    expect(h.find(([ms]) => ms === 150)![1] / out.sample.requests).toBeLessThan(0.03);
    expect(await source.sample({ ...stable, track: 'nobody' }, INTERVAL)).toMatchObject({ ok: false, kind: 'no-data' });
  });

  it('judges a healthy canary CONTINUE and an -errors canary ROLLBACK, side by side', async () => {
    const start = async (service: string, version: string) => {
      const r = ref(service);
      const p = plan(service, version);
      const state = await driver.prepare(r, p);
      const stage = driver.stages(p)[0]!;
      const applied = await driver.applyStage(r, state, stage);
      const tracks = driver.tracks(r, applied);
      // Wait until Prometheus has scraped the new pod long enough for rate().
      await until(`${service} canary samples in Prometheus`, 20_000, async () => {
        const s = await source.sample(tracks.candidate, INTERVAL);
        return s.ok ? s : undefined;
      });
      return monitorWindow({
        source,
        tracks,
        plan: p,
        rules,
        clock,
        windowSec: 25,
        intervalSec: INTERVAL,
        trafficPct: stage.trafficPct,
        signals: () => driver.signals(r, applied),
      });
    };
    const [healthy, errors] = await Promise.all([start('payments', 'v1.2.3'), start('checkout', 'v1.2.3-errors')]);
    expect(errors.verdict).toBe('ROLLBACK');
    // At ~10 rps the canary's first samples breach the error SLO before they prove +2 points over
    // the baseline; either way the explanation is the canary's error rate.
    expect(errors.explanation).toMatch(
      /^error rate \d+\.\d% on canary (vs \d\.\d+% baseline \(\+\d+\.\d pts > 2 pts allowed\)|against the availability SLO 99\.5%)/,
    );
    expect(healthy.findings.filter((f) => f.verdict !== 'CONTINUE')).toEqual([]);
    expect(healthy.verdict).toBe('CONTINUE');
  }, 90_000);

  it("refuses a window from before the series' first scrapes, whose rate would count part of the traffic", async () => {
    // The first moment the throughput query answered: a rate over its first few scrapes only.
    const rate = renderQuery(cfg.services[0]!.metrics!.throughputRps, stable, INTERVAL);
    const points = await source.range(rate, scrapingFrom / 1000, Date.now() / 1000, 1);
    if (!points.ok) throw new Error(points.message);
    const first = points.points[0]![0];
    const early = await source.sampleAt(stable, INTERVAL, (first + 1) * 1000);
    expect(early).toMatchObject({ ok: false, kind: 'no-data', message: expect.stringMatching(/began within this window/) });
    expect((await source.sampleAt(stable, INTERVAL, clock.now())).ok).toBe(true);
  });

  it('captures a baseline from Prometheus history at once (query time in the past)', async () => {
    const b = await captureBaseline({ source, track: stable, clock, samples: 3, intervalSec: INTERVAL });
    expect(b.fromHistory).toBe(true);
    expect(b.samples).toHaveLength(3);
    expect(b.samples[1]!.at - b.samples[0]!.at).toBe(INTERVAL * 1000);
    expect(b.summary.throughputRps).toBeGreaterThan(100);
    // The runner's baseline step goes the same way: no waiting for fresh samples.
    const t0 = clock.now();
    const run = await createAnalysis({ metrics: source, clock, defaults: cfg.defaults }).baseline(plan('checkout', 'v1.2.3'), stable);
    expect(clock.now() - t0).toBeLessThan(INTERVAL * 1000);
    expect(run.samples).toHaveLength(cfg.defaults.minSamples);
    expect(run.detail).toMatch(/^5 samples of stable from history: error 0\.\d+%, p99 \d+ ms, \d+\.\d rps$/);
  });
});
