// Team gates and resource limits where there is no PromQL (the sandbox's own metrics API, as in
// local mode without PROMETHEUS_URL): never a pass, a person is asked and told what to set.
// The gates themselves, read by a real Prometheus: test/metrics/prometheus-gates.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { ShipbotConfig } from '../../src/config.js';
import { pendingDecision } from '../../src/domain/run.js';
import { startWorld, started, until, type World, withoutStaging } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

function withGate(over: (c: ShipbotConfig['services'][number]) => void): ShipbotConfig {
  const cfg = structuredClone(withoutStaging());
  over(cfg.services.find((s) => s.name === 'checkout')!);
  return cfg;
}

describe('gates that need PromQL, on a source without it', () => {
  it('a team gate asks a person at the first monitored window, saying PROMETHEUS_URL is needed', async () => {
    const config = withGate((s) => {
      s.gates = [
        {
          name: 'conversion rate',
          query: 'sum(rate(shop_orders_total[{{window}}]))',
          maxDropPct: 20,
          windowMin: 15,
          perShare: false,
          onBreach: 'rollback',
        },
      ];
    });
    w = await startWorld({ config });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary', { canarySteps: [25, 100] }));
    const asked = await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision');
    expect(pendingDecision(asked)?.explanation).toMatch(
      /^conversion rate: no data \(query-error: team gates and resource use are PromQL, read from Prometheus: set PROMETHEUS_URL/,
    );
    expect(asked.steps.find((s) => s.key === 'stage:canary-25')?.status).toBe('warning');
  });

  it('resource use without a limit is reported NO DATA and does not stop the release; with a limit it asks', async () => {
    w = await startWorld({ config: withGate((s) => (s.resources = {})) });
    const free = started(await w.deploy('deploy checkout v1.3.0 canary', { canarySteps: [25, 100] }));
    const done = (await w.runner.settled(free.id))!;
    expect(done.phase.status).toBe('succeeded');
    await w.close();
    w = await startWorld({ config: withGate((s) => (s.resources = { memoryLimitMiB: 512 })) });
    const limited = started(await w.deploy('deploy checkout v1.3.1 canary', { canarySteps: [25, 100] }));
    const asked = await until(w.runner, limited.id, (r) => r.phase.status === 'awaiting-decision');
    expect(pendingDecision(asked)?.explanation).toMatch(/memory per pod: no data \(query-error: .*set PROMETHEUS_URL/);
  });
});
