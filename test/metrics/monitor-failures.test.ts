// monitorWindow when the metrics are the problem, and at 100% (no live baseline): through
// PrometheusSource against an HTTP double of the Prometheus API, on a fast clock.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile } from '../../src/config.js';
import { rulesFromDefaults } from '../../src/domain/judge.js';
import { monitorWindow } from '../../src/metrics/monitor.js';
import { PrometheusSource } from '../../src/metrics/prometheus.js';
import type { MetricSource } from '../../src/metrics/types.js';
import { flat } from './series.js';
import { startPromDouble, type PromDouble } from './prometheus-double.js';

const cfg = loadConfigFile('data/shipbot.yml');
const rules = rulesFromDefaults(cfg.defaults);
const plan = { slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.5 } };
const at = (t: string) => ({ namespace: 'production', service: 'checkout', track: t });

let prom: PromDouble;
let source: PrometheusSource;
const clock = new ScaledClock(50); // not faster: HTTP round trips would eat whole intervals of clock time
beforeAll(async () => {
  prom = await startPromDouble();
  source = new PrometheusSource({ baseUrl: prom.url, queries: cfg.services[0]!.metrics!, timeoutMs: 5000, clock });
});
afterAll(() => prom.close());

/** A 5% canary of `candidate` against the stable track: 150 s at 30 s intervals (5 samples, the judge's minimum). */
function canaryWindow(candidate: string, extra: Partial<Parameters<typeof monitorWindow>[0]> = {}) {
  return monitorWindow({
    source,
    tracks: { candidate: at(candidate), baseline: at('stable') },
    plan,
    rules,
    clock,
    windowSec: 150,
    intervalSec: 30,
    trafficPct: 5,
    ...extra,
  });
}

describe('monitorWindow with failing metrics', () => {
  it('Prometheus answering errors all window is INCONCLUSIVE, and the explanation says why first', async () => {
    const d = await canaryWindow('down');
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.explanation).toMatch(/^prometheus: \d+ of \d+ queries failed \(.*\) — no data for canary/);
    expect(d.failures.filter((f) => f.kind === 'http-error' && f.status === 502).length).toBeGreaterThanOrEqual(2);
    expect(d.findings.find((f) => f.rule === 'metrics-source')?.verdict).toBe('INCONCLUSIVE');
  });

  it('a rejected query is INCONCLUSIVE, never a pass', async () => {
    const d = await canaryWindow('bad');
    expect(d.verdict).toBe('INCONCLUSIVE');
    expect(d.explanation).toMatch(/query-error: .*bad_data/);
  });

  it('failing pod-health reads do not stop the window, and are reported', async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    const d = await canaryWindow('canary', {
      signals: async () => {
        throw new Error('apiserver unavailable');
      },
    });
    expect(d.verdict).toBe('CONTINUE');
    expect(d.findings.find((f) => f.rule === 'infra-signals')?.detail).toMatch(/failed \d+ times: apiserver unavailable/);
  });
});

describe('monitorWindow pooled counts', () => {
  it('reads each track once more per tick over the whole window so far (increase() over the exact elapsed range)', async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    const from = prom.queries.length;
    const d = await canaryWindow('canary');
    expect(d.verdict).toBe('CONTINUE');
    // The requests queries of the canary, by range: 120 s (4 scrapes of 30 s, the shortest
    // range) for each interval and for the first whole readings, then the elapsed time itself.
    const ranges = prom.queries
      .slice(from)
      .map((q) => q.params.get('query') ?? '')
      .filter((q) => q.startsWith('sum(increase(http_requests_total') && q.includes('track="canary"'))
      .map((q) => Number(/\[(\d+)s\]/.exec(q)?.[1]));
    expect(ranges.filter((r) => r === 120).length).toBeGreaterThanOrEqual(5 + 3);
    // 5 samples judged, after the 3 whose 120 s range reached back before the window began.
    const longest = Math.max(...ranges);
    expect(longest).toBeGreaterThanOrEqual(240);
    expect(longest).toBeLessThan(270);
  });

  it('leaves out the samples whose rate range reaches back before the stage began, and stretches the window by as many (issue 30)', async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    const began = clock.now();
    const d = await canaryWindow('canary');
    expect(d.candidate).toHaveLength(5);
    for (const s of [...d.candidate, ...d.baseline]) expect(s.at - (s.rangeSec ?? s.windowSec) * 1000).toBeGreaterThanOrEqual(began);
    expect(d.findings.find((f) => f.rule === 'settling')).toMatchObject({
      verdict: 'CONTINUE',
      detail: '3 samples left out, their 120 s rate range reaching back before traffic moved; the window was stretched by as many',
    });
    expect(d.watchedSec).toBeGreaterThanOrEqual(8 * 30);
  });
});

describe('monitorWindow when one answer is lost', () => {
  it('retries a failed candidate sample on the next tick, so the window still has its samples', async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    // Prometheus itself, except that the first two candidate samples time out (as under load).
    let lost = 0;
    const flaky: MetricSource = {
      name: 'prometheus',
      sample: (track, windowSec) =>
        track.track === 'canary' && lost < 2
          ? Promise.resolve({ ok: false, kind: 'timeout', message: `no answer (${++lost})` })
          : source.sample(track, windowSec),
    };
    // 8 ticks: 2 answers lost, 1 sample reaching back before the window, 5 judged.
    const d = await canaryWindow('canary', { source: flaky });
    expect(d.candidate).toHaveLength(5);
    expect(d.failures.map((f) => f.kind)).toEqual(['timeout', 'timeout']);
    expect(d.verdict).toBe('CONTINUE');
    expect(d.findings.find((f) => f.rule === 'metrics-source')).toMatchObject({
      verdict: 'CONTINUE',
      detail: expect.stringMatching(/^prometheus: 2 of 16 queries failed \(timeout: no answer \(2\)\)/),
    });
  });

  it("Promote ends the window at once; too little data then continues on the person's word", async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    let promote!: () => void;
    const skip = new Promise<void>((r) => (promote = r));
    const d = await monitorWindow({
      source,
      tracks: { candidate: at('canary'), baseline: at('stable') },
      plan,
      rules,
      clock,
      windowSec: 3000,
      intervalSec: 30,
      trafficPct: 5,
      skip,
      // The first 3 samples reach back before the window (a 120 s range): ticks 4 and 5 are judged.
      onSample: (t) => t.index === 5 && promote(),
    });
    expect(d.candidate).toHaveLength(2);
    expect(d.watchedSec).toBeLessThan(300);
    expect(d.verdict).toBe('CONTINUE');
    expect(d.explanation).toMatch(/^monitoring window cut short by Promote \(too few samples of canary to judge: 2 of the 5 needed/);
  });
});

describe('monitorWindow on a short window', () => {
  it('never takes fewer samples than the judge needs: 60 s at 30 s intervals is stretched to minSamples', async () => {
    prom.values.set('canary', { errorRate: 0.002, p99Ms: 120, throughputRps: 10 });
    const d = await monitorWindow({
      source,
      tracks: { candidate: at('canary'), baseline: at('stable') },
      plan,
      rules,
      clock,
      windowSec: 60,
      intervalSec: 30,
      trafficPct: 5,
    });
    expect(d.candidate).toHaveLength(rules.minSamples);
    expect(d.verdict, d.explanation).toBe('CONTINUE');
  });
});

describe('monitorWindow at 100% (no live baseline)', () => {
  it('compares with the captured pre-deploy baseline, per full traffic', async () => {
    prom.values.set('all-new', { errorRate: 0.09, p99Ms: 120, throughputRps: 200 });
    const captured = flat(5, { requests: 6000, errorRate: 0.002, p99Ms: 120 });
    const d = await monitorWindow({
      source,
      tracks: { candidate: at('all-new') },
      baselineSamples: captured,
      plan,
      rules,
      clock,
      windowSec: 300,
      intervalSec: 30,
      trafficPct: 100,
    });
    expect(d.verdict).toBe('ROLLBACK');
    expect(d.endedEarly).toBe(true);
    expect(d.explanation).toMatch(/^error rate 9\.0% on canary vs 0\.2% pre-deploy baseline/);
    expect(d.baseline).toEqual(captured);
  });

  it('after a blue-green switch the old colour serves nothing: its lagging rate is never divided by a share of 0 (issue 30)', async () => {
    // The switch happened; Prometheus' rate over the old colour still reaches back before it.
    prom.values.set('green', { errorRate: 0.002, p99Ms: 120, throughputRps: 200 });
    prom.values.set('blue', { errorRate: 0.002, p99Ms: 120, throughputRps: 90 });
    const captured = flat(5, { requests: 6000, errorRate: 0.002, p99Ms: 120 });
    const d = await monitorWindow({
      source,
      tracks: { candidate: at('green'), baseline: at('blue') },
      baselineSamples: captured,
      plan,
      rules,
      clock,
      windowSec: 150,
      intervalSec: 30,
      trafficPct: 100,
    });
    expect(d.verdict, d.explanation).toBe('CONTINUE');
    expect(d.findings.find((f) => f.rule === 'throughput')?.detail).not.toMatch(/per traffic share/);
    expect(d.baseline).toEqual(captured);
  });
});
