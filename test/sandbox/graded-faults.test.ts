// Graded sandbox faults (DESIGN.md): -errorsN, -slowX, -tailX, -noisy, -lateN, combinable and
// case-insensitive, observed through the direct metrics API like any client would; and the
// pure table that decides them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import type { MetricSample } from '../../src/domain/types.js';
import { BASELINE, behaviourOf, lateOnsetMin } from '../../src/sandbox/behaviour.js';
import { createNamespace, deployment, startFixture, waitFor, type Fixture } from './helpers.js';

const img = (tag: string) => `registry.example.com/app:${tag}`;

describe('the graded tag table', () => {
  it('keeps the plain tags and reads the graded parts', () => {
    expect(behaviourOf(img('v1.0.0'))).toMatchObject({
      fault: 'none',
      errorRate: BASELINE.errorRate,
      medianMs: BASELINE.medianMs,
      tailFactor: 1,
      jitter: 1,
    });
    expect(behaviourOf(img('v1.0.0-errors')).errorRate).toBe(0.08);
    expect(behaviourOf(img('v1.0.0-slow')).medianMs).toBe(BASELINE.medianMs * 2);
    expect(behaviourOf(img('v1.0.0-errors2.5')).errorRate).toBeCloseTo(0.025, 10);
    expect(behaviourOf(img('v1.0.0-SLOW1.3')).medianMs).toBeCloseTo(BASELINE.medianMs * 1.3, 10);
    expect(behaviourOf(img('v1.0.0-tail3'))).toMatchObject({ tailFactor: 3, medianMs: BASELINE.medianMs });
    expect(behaviourOf(img('v1.0.0-noisy'))).toMatchObject({ jitter: 3, errorRate: BASELINE.errorRate });
    expect(behaviourOf(img('v1.0.0-slow1.5-errors3'))).toMatchObject({ errorRate: 0.03, medianMs: BASELINE.medianMs * 1.5 });
    expect(behaviourOf(img('v1.0.0-crash')).becomesReady).toBe(false);
  });
  it('-lateN: the rest of the tag begins N minutes after Ready', () => {
    expect(lateOnsetMin(img('v1-late6-errors7'))).toBe(6);
    expect(behaviourOf(img('v1-late6-errors7'), 5 * 60_000).errorRate).toBe(BASELINE.errorRate);
    expect(behaviourOf(img('v1-late6-errors7'), 6 * 60_000 + 1).errorRate).toBeCloseTo(0.07, 10);
  });
});

describe('graded faults in the traffic', () => {
  let f: Fixture;
  const NS = 't-graded';
  const TAGS = { base: 'v1.3.0', e25: 'v1.3.0-errors2.5', s13: 'v1.3.0-slow1.3', tail: 'v1.3.0-tail3', noisy: 'v1.3.0-noisy' } as const;

  beforeAll(async () => {
    f = await startFixture();
    await createNamespace(f.core, NS);
    for (const [name, tag] of Object.entries(TAGS)) {
      await f.apps.createNamespacedDeployment({ namespace: NS, body: deployment(name, img(tag), 2) });
      await f.core.createNamespacedService({
        namespace: NS,
        body: {
          metadata: { name, annotations: { 'sandbox.shipbot.dev/rps': '2000' } },
          spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      });
    }
  });
  afterAll(() => f?.sandbox.close());

  const metrics = async (service: string, windowSec: number): Promise<MetricSample> =>
    (
      await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?namespace=${NS}&service=${service}&windowSec=${windowSec}`)
    ).json() as Promise<MetricSample>;
  const settled = (service: string, windowSec = 240) =>
    waitFor(
      `${windowSec}s of ${service}`,
      async () => ((m) => (m.throughputRps > 1800 ? m : undefined))(await metrics(service, windowSec)),
      30_000,
    );

  it('-errors2.5 fails about 2.5% of requests; -slow1.3 has p99 about 1.3×; -tail3 raises p99 but not p50', async () => {
    const [base, e25, s13, tail] = await Promise.all(['base', 'e25', 's13', 'tail'].map((s) => settled(s)));
    expect(e25!.errorRate).toBeGreaterThan(0.02);
    expect(e25!.errorRate).toBeLessThan(0.03);
    expect(s13!.p99Ms / base!.p99Ms).toBeGreaterThan(1.2);
    expect(s13!.p99Ms / base!.p99Ms).toBeLessThan(1.4);
    expect(tail!.p99Ms / base!.p99Ms).toBeGreaterThan(2.5);
    expect(Math.abs(tail!.p50Ms / base!.p50Ms - 1)).toBeLessThan(0.1);
  });

  it('-noisy is healthy on average but jumpier from tick to tick (3× the per-tick jitter)', async () => {
    await settled('noisy', 600);
    const spread = async (service: string) => {
      const rates: number[] = [];
      for (let i = 0; i < 12; i++) {
        // 5 s windows, one a bucket: the per-tick noise shows.
        const end = await metrics(service, 5);
        rates.push(end.p50Ms);
        await new Promise((r) => setTimeout(r, 20));
      }
      const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
      return Math.sqrt(rates.reduce((a, b) => a + (b - mean) ** 2, 0) / (rates.length - 1)) / mean;
    };
    const [avgNoisy, avgBase] = [await metrics('noisy', 600), await metrics('base', 600)];
    expect(Math.abs(avgNoisy.errorRate - avgBase.errorRate)).toBeLessThan(0.002);
    expect(Math.abs(avgNoisy.p50Ms / avgBase.p50Ms - 1)).toBeLessThan(0.1);
    expect(await spread('noisy')).toBeGreaterThan(await spread('base'));
  });
});

describe('-lateN in the traffic', () => {
  it('-late6-errors7 is healthy for its first minutes after Ready, then fails about 7%', async () => {
    // A slower clock: 6 sandbox minutes are 6 real seconds, so the healthy start can be seen.
    const f = await startFixture({ clock: new ScaledClock(60) });
    try {
      await createNamespace(f.core, 't-late');
      await f.apps.createNamespacedDeployment({ namespace: 't-late', body: deployment('late', img('v1.3.0-late6-errors7'), 2) });
      await f.core.createNamespacedService({
        namespace: 't-late',
        body: {
          metadata: { name: 'late', annotations: { 'sandbox.shipbot.dev/rps': '2000' } },
          spec: { selector: { app: 'late' }, ports: [{ port: 80, targetPort: 8080 }] },
        },
      });
      const sample = async (windowSec: number) =>
        (
          await f.fetch(`${f.sandbox.url}/sandbox/v1/metrics?namespace=t-late&service=late&windowSec=${windowSec}`)
        ).json() as Promise<MetricSample>;
      const early = await waitFor(
        'a minute of traffic',
        async () => ((m) => (m.requests > 60_000 ? m : undefined))(await sample(60)),
        20_000,
      );
      expect(early!.errorRate).toBeLessThan(0.01);
      const late = await waitFor('the late fault', async () => ((m) => (m.errorRate > 0.05 ? m : undefined))(await sample(30)), 30_000);
      expect(late!.errorRate).toBeLessThan(0.09);
    } finally {
      await f.sandbox.close();
    }
  }, 60_000);
});
