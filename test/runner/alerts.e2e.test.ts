// Firing alerts as a gate, with a real Alertmanager (Debian's prometheus-alertmanager) on
// loopback: a critical alert for the service that fires while the canary is watched rolls it
// back; one that was already firing before the deploy is reported, not blamed; an alert of a
// severity that asks makes a person decide.
import { afterEach, describe, expect, it } from 'vitest';
import type { ShipbotConfig } from '../../src/config.js';
import { allDecisions } from '../../src/store/records.js';
import { AlertmanagerSource } from '../../src/metrics/alerts.js';
import { outcomeOf, pendingDecision } from '../../src/domain/run.js';
import { type Alertmanager, ALERTMANAGER, haveAlertmanager, startAlertmanager } from '../helpers/alertmanager.js';
import { servingImages, startWorld, started, until, type World, withoutStaging } from './world.js';

if (!haveAlertmanager)
  console.warn(`test/runner/alerts.e2e.test.ts skipped: no Alertmanager at ${ALERTMANAGER} (apt-get install prometheus-alertmanager)`);

let w: World | undefined;
let am: Alertmanager | undefined;
afterEach(async () => {
  await w?.close();
  await am?.close();
  w = am = undefined;
});

function withAlerts(): ShipbotConfig {
  const cfg = structuredClone(withoutStaging());
  cfg.services.find((s) => s.name === 'checkout')!.alerts = {
    labels: { namespace: '{{namespace}}', service: '{{service}}' },
    rollbackOn: ['critical'],
    askOn: ['warning'],
  };
  return cfg;
}

const CHECKOUT = { namespace: 'production', service: 'checkout' };

describe.skipIf(!haveAlertmanager)('firing alerts gate a release', () => {
  it('a critical alert that fires while the canary is watched rolls it back, naming the alert', async () => {
    am = await startAlertmanager();
    w = await startWorld({ config: withAlerts(), alerts: new AlertmanagerSource(am.url) });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary', { canarySteps: [25, 100] }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === 'stage:canary-25' && s.status === 'running'));
    // Another service's alert counts for nothing; checkout's critical one does.
    await am.fire({ alertname: 'SearchSlow', severity: 'critical', namespace: 'production', service: 'search' }, w.clock.now());
    await am.fire({ alertname: 'CheckoutErrorBudgetBurn', severity: 'critical', ...CHECKOUT }, w.clock.now());
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(outcomeOf(done)).toMatch(/alert CheckoutErrorBudgetBurn \(critical\) fired at .* after the rollout began/);
    expect(outcomeOf(done)).not.toMatch(/SearchSlow/);
    expect(await servingImages(w, 'checkout')).toEqual(['registry.example.com/shop/checkout:v1.2.2']);
  });

  it('an alert already firing before the deploy is reported, not blamed: the release succeeds', async () => {
    am = await startAlertmanager();
    w = await startWorld({ config: withAlerts(), alerts: new AlertmanagerSource(am.url) });
    await am.fire({ alertname: 'CheckoutDiskFilling', severity: 'critical', ...CHECKOUT }, w.clock.now() - 600_000);
    const run = started(await w.deploy('deploy checkout v1.3.0 canary', { canarySteps: [25, 100] }));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    const findings = allDecisions((await w.runner.record(run.id))!).flatMap((d) => d.decision.findings);
    expect(findings).toContainEqual({
      rule: 'alerts',
      verdict: 'CONTINUE',
      detail: expect.stringMatching(/^alert CheckoutDiskFilling \(critical\) was already firing before the rollout/),
    });
  });

  it('a warning that fires during the window asks a person', async () => {
    am = await startAlertmanager();
    w = await startWorld({ config: withAlerts(), alerts: new AlertmanagerSource(am.url) });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary', { canarySteps: [25, 100] }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === 'stage:canary-25' && s.status === 'running'));
    await am.fire({ alertname: 'CheckoutLatencyCreeping', severity: 'warning', ...CHECKOUT }, w.clock.now());
    const asked = await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision' || r.phase.status === 'succeeded');
    expect(asked.phase.status).toBe('awaiting-decision');
    expect(pendingDecision(asked)?.explanation).toMatch(/alert CheckoutLatencyCreeping \(warning\) fired at .*: a person decides/);
  });
});
