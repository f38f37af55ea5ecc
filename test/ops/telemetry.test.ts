// Shipbot's own metrics move as the runs they count happen: the real runner on the sandbox,
// read back through prom-client's registry as Prometheus would scrape it.
import { afterEach, describe, expect, it } from 'vitest';
import { clusterReadiness, probeRoutes, startProbeServer } from '../../src/ops/probes.js';
import { createTelemetry, reasonLabel } from '../../src/ops/telemetry.js';
import { kubeOf } from '../helpers/sandbox-access.js';
import { started, startWorld, type World } from '../runner/world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const value = async (t: ReturnType<typeof createTelemetry>, name: string, labels: Record<string, string> = {}) => {
  const metric = (await t.registry.getMetricsAsJSON()).find((m) => m.name === name);
  const match = (metric?.values ?? []).filter((v) =>
    Object.entries(labels).every(([k, x]) => (v.labels as Record<string, unknown>)[k] === x),
  );
  return match.reduce((a, v) => a + v.value, 0);
};

describe('Shipbot metrics', () => {
  it('a rollback increments shipbot_rollbacks_total once and observes both histograms; a success counts as a deploy', async () => {
    w = await startWorld();
    const t = createTelemetry({ record: (id) => w!.runner.record(id), defaultMetrics: false });
    let counted: Promise<void> = Promise.resolve();
    w.runner.subscribe((ev) => void (counted = t.onRunEvent(ev)));

    const bad = started(await w.deploy('deploy checkout v1.2.3-errors canary', { canarySteps: [25, 100] }));
    expect((await w.runner.settled(bad.id))!.phase.status).toBe('rolled-back');
    await counted;
    expect(
      await value(t, 'shipbot_rollbacks_total', { service: 'checkout', environment: 'production', trigger: 'auto', reason: 'error-rate' }),
    ).toBe(1);
    expect(await value(t, 'shipbot_time_to_detect_seconds', {})).toBeGreaterThan(0);
    const hist = (await t.registry.getMetricsAsJSON()).filter((m) => m.name.startsWith('shipbot_time_to_'));
    for (const h of hist)
      expect(h.values.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value, h.name).toBe(1);
    expect(await value(t, 'shipbot_deploys_total', { outcome: 'rolled-back', strategy: 'canary' })).toBe(1);
    expect(await value(t, 'shipbot_decisions_total', { verdict: 'ROLLBACK' })).toBe(1);

    const good = started(await w.deploy('deploy search v1.2.3 rolling'));
    expect((await w.runner.settled(good.id))!.phase.status).toBe('succeeded');
    await counted;
    expect(await value(t, 'shipbot_deploys_total', { outcome: 'succeeded', service: 'search' })).toBe(1);
    expect(await value(t, 'shipbot_rollbacks_total')).toBe(1);
    expect(await value(t, 'shipbot_runs_active')).toBe(0);
    // No run ids or versions in any label.
    const text = await t.registry.metrics();
    expect(text).not.toMatch(/r-[0-9a-f]{8}|v1\.2\.3/);
  });

  it('shipbot_runs_active and shipbot_run_queue_depth follow the runs; a queued run counts until it starts', async () => {
    w = await startWorld();
    const t = createTelemetry({ record: (id) => w!.runner.record(id), defaultMetrics: false });
    w.runner.subscribe((ev) => t.onRunEvent(ev));
    const first = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const second = started(await w.deploy('deploy checkout v1.2.4 rolling', {}, { queueIfLocked: true }));
    expect(second.phase.status).toBe('queued');
    // Counted as each saved change is read back from the store: a moment after the change.
    await expect.poll(() => value(t, 'shipbot_run_queue_depth')).toBe(1);
    await expect.poll(() => value(t, 'shipbot_runs_active')).toBe(2);
    await w.runner.settled(first.id);
    await w.runner.settled(second.id);
    await expect.poll(() => value(t, 'shipbot_run_queue_depth')).toBe(0);
    await expect.poll(() => value(t, 'shipbot_runs_active')).toBe(0);
    await expect.poll(() => value(t, 'shipbot_deploys_total', { outcome: 'succeeded' })).toBe(2);
  });

  it('/readyz turns 503 when the cluster stops answering, naming it', async () => {
    w = await startWorld();
    const kube = kubeOf(w.sandbox);
    const t = createTelemetry({ record: async () => undefined, defaultMetrics: false });
    const probes = await startProbeServer(
      probeRoutes({ registry: t.registry, notReady: clusterReadiness(() => [kube], 0) }),
      0,
      '127.0.0.1',
    );
    try {
      const readyz = () => fetch(`http://127.0.0.1:${probes.port}/readyz`);
      expect((await readyz()).status).toBe(200);
      await w.sandbox.close();
      const down = await readyz();
      expect(down.status).toBe(503);
      expect(await down.text()).toMatch(/^not ready:\n- cluster sandbox does not answer/);
      expect((await fetch(`http://127.0.0.1:${probes.port}/healthz`)).status).toBe(200);
    } finally {
      await probes.close();
    }
  });

  it('reasons are a bounded vocabulary', () => {
    expect(reasonLabel('error rate 8.1% on canary vs 0.2% baseline')).toBe('error-rate');
    expect(reasonLabel('p99 240 ms on canary vs 120 ms')).toBe('latency');
    expect(reasonLabel('container app of pod x is in CrashLoopBackOff')).toBe('infrastructure');
    expect(reasonLabel('something new')).toBe('other');
  });
});
