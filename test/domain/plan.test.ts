// Risk defaults, plans built from requests, and the modal's answer validation.
import { describe, expect, it } from 'vitest';
import { findService } from '../../src/config.js';
import { parseCommand } from '../../src/domain/parse.js';
import { buildPlan, PlanError, REGRESSION_THRESHOLD_RANGES, riskDefaults, validatePlanAnswers } from '../../src/domain/plan.js';
import { DeployPlan, type DeployRequest } from '../../src/domain/types.js';
import { configWith, NOW, shippedConfig as cfg } from './helpers.js';

const checkout = findService(cfg, 'checkout')!;
const payments = findService(cfg, 'payments')!;
const search = findService(cfg, 'search')!;

function request(text: string): DeployRequest {
  const r = parseCommand(text, cfg, NOW);
  if (!r.ok || r.command.intent !== 'deploy') throw new Error(`not a deploy request: ${text}`);
  return r.command;
}

describe('riskDefaults', () => {
  it.each([
    ['high', 0, 60, [1, 5, 10, 25, 50, 100], 'instant'],
    ['medium', 2, 30, [5, 25, 50, 100], 'minutes'],
    ['low', 5, 15, [5, 25, 50, 100], 'minutes'],
  ] as const)('%s risk', (risk, threshold, observationMin, steps, tolerance) => {
    const d = riskDefaults(risk, cfg);
    expect(d.regressionThresholdPct).toBe(threshold);
    expect(d.observationMin).toBe(observationMin);
    expect(d.observationSec).toBe(observationMin * 60);
    expect(d.canarySteps).toEqual(steps);
    expect(d.rollbackTolerance).toBe(tolerance);
    expect(d.regressionThresholdRange).toEqual(REGRESSION_THRESHOLD_RANGES[risk]);
  });

  it('ranges: high 0, medium 2–5, low 5–10', () => {
    expect(REGRESSION_THRESHOLD_RANGES).toEqual({ high: { min: 0, max: 0 }, medium: { min: 2, max: 5 }, low: { min: 5, max: 10 } });
  });

  it('reads observation periods and thresholds from the config', () => {
    const custom = configWith((raw) => {
      raw.defaults.observationMin = { low: 10, medium: 20, high: 90 };
      raw.defaults.regressionThresholdPct = { low: 8, medium: 3, high: 0 };
    });
    expect(riskDefaults('high', custom).observationSec).toBe(90 * 60);
    expect(riskDefaults('medium', custom).regressionThresholdPct).toBe(3);
  });

  it('high-risk steps are gentler than the configured ones', () => {
    const high = riskDefaults('high', cfg).canarySteps;
    const medium = riskDefaults('medium', cfg).canarySteps;
    expect(high[0]).toBeLessThan(medium[0]);
    expect(high.length).toBeGreaterThan(medium.length);
  });
});

describe('buildPlan', () => {
  it('builds a zod-valid plan from a plain request with medium-risk defaults and the service SLO', () => {
    const plan = buildPlan(request('deploy checkout v1.2.3'), checkout, cfg);
    expect(() => DeployPlan.parse(plan)).not.toThrow();
    expect(plan).toMatchObject({
      service: 'checkout',
      version: 'v1.2.3',
      environment: 'production',
      strategy: 'canary',
      risk: 'medium',
      slo: { errorRatePct: 1, p99Ms: 400, availabilityPct: 99.5 },
      observationSec: 30 * 60,
      stageWindowSec: 300,
      monitoringIntervalSec: 30,
      canarySteps: [5, 25, 50, 100],
      regressionThresholdPct: 2,
      rollbackOnRegression: true,
      dbMigration: false,
    });
    expect(plan.rationale).toMatch(/^Canary: /);
  });

  it('uses the default SLO when the service has none', () => {
    expect(buildPlan(request('deploy search 1.4.0'), search, cfg).slo).toEqual({ errorRatePct: 1, p99Ms: 500, availabilityPct: 99.5 });
  });

  it('high risk: 0% threshold, 60 min observation, gentle steps', () => {
    const plan = buildPlan(request('deploy payments 2.0.0 high risk'), payments, cfg);
    expect(plan).toMatchObject({
      risk: 'high',
      strategy: 'canary',
      regressionThresholdPct: 0,
      observationSec: 3600,
      canarySteps: [1, 5, 10, 25, 50, 100],
    });
  });

  it('low risk: 5% threshold, 15 min observation', () => {
    const plan = buildPlan(request('deploy payments 2.0.0 low risk'), payments, cfg);
    expect(plan).toMatchObject({ risk: 'low', regressionThresholdPct: 5, observationSec: 900 });
  });

  it('keeps what the request asked for', () => {
    const plan = buildPlan(
      request('deploy checkout v2 to staging blue-green --regression-threshold 3 --no-rollback-on-regression --guidance "security review"'),
      checkout,
      cfg,
    );
    expect(plan).toMatchObject({
      environment: 'staging',
      strategy: 'blue-green',
      rollbackTolerance: 'instant',
      regressionThresholdPct: 3,
      rollbackOnRegression: false,
      guidance: 'security review',
      focus: ['security'],
    });
  });

  it('keeps explicit canary steps', () => {
    expect(buildPlan(request('deploy checkout v2 10% → 50% → 100%'), checkout, cfg).canarySteps).toEqual([10, 50, 100]);
  });

  it('says when an explicit threshold is outside the risk range', () => {
    const plan = buildPlan(request('deploy checkout v2 high risk --regression-threshold 4'), checkout, cfg);
    expect(plan.regressionThresholdPct).toBe(4);
    expect(plan.rationale).toMatch(/outside the high-risk range \(exactly 0%\)/);
  });

  it('hotfix shortens the waits at medium risk but not at high risk', () => {
    const hot = buildPlan(request('deploy checkout v2 hotfix'), checkout, cfg);
    expect(hot.observationSec).toBe(15 * 60);
    expect(hot.stageWindowSec).toBe(150);
    expect(hot.rationale).toMatch(/hotfix.*halved/i);
    const hotHigh = buildPlan(request('deploy checkout v2 hotfix high risk'), checkout, cfg);
    expect(hotHigh.observationSec).toBe(3600);
  });

  it('refuses a request without service or version, saying which', () => {
    expect(() => buildPlan(request('deploy to production'), checkout, cfg)).toThrow(PlanError);
    try {
      buildPlan(request('deploy checkout'), checkout, cfg);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(PlanError);
      expect((err as PlanError).missing).toEqual(['version']);
      expect((err as Error).message).toMatch(/no version/);
    }
  });

  it('refuses staging for a service without a staging environment', () => {
    const noStaging = configWith((raw) => {
      delete raw.services[0].environments.staging;
    });
    expect(() => buildPlan(request('deploy checkout v1 to staging'), noStaging.services[0], noStaging)).toThrow(/no staging environment/);
  });

  it('puts recommendation warnings into the plan rationale', () => {
    const noBg = configWith((raw) => {
      raw.services[0].strategies = ['canary', 'rolling'];
    });
    const plan = buildPlan(request('deploy checkout v1 blue-green'), noBg.services[0], noBg);
    expect(plan.strategy).toBe('blue-green');
    expect(plan.rationale).toMatch(/does not allow blue-green/);
  });

  it('refuses a plan for another service than the request names', () => {
    expect(() => buildPlan(request('deploy checkout v1'), payments, cfg)).toThrow(/'checkout'.*'payments'/);
  });
});

describe('validatePlanAnswers', () => {
  const base = buildPlan(request('deploy checkout v1.2.3'), checkout, cfg);

  it('accepts the pre-filled answers unchanged', () => {
    const r = validatePlanAnswers(
      {
        strategy: 'canary',
        risk: 'medium',
        errorRatePct: '1',
        p99Ms: '400',
        availabilityPct: '99.5',
        dbMigration: 'no',
        rollbackTolerance: 'minutes',
        observationMin: '30',
        regressionThresholdPct: '2',
        rollbackOnRegression: 'yes',
        canarySteps: '5, 25, 50, 100',
      },
      base,
      checkout,
      cfg,
    );
    expect(r).toEqual({ plan: base });
  });

  it('applies changed answers', () => {
    const r = validatePlanAnswers(
      {
        strategy: 'blue-green',
        errorRatePct: '0.5',
        p99Ms: '350',
        observationMin: '45',
        regressionThresholdPct: '3%',
        dbMigration: 'yes',
        guidance: 'zero downtime',
      },
      base,
      checkout,
      cfg,
    );
    if (!('plan' in r)) throw new Error(JSON.stringify(r.errors));
    expect(r.plan).toMatchObject({
      strategy: 'blue-green',
      slo: { errorRatePct: 0.5, p99Ms: 350 },
      observationSec: 2700,
      regressionThresholdPct: 3,
      dbMigration: true,
      guidance: 'zero downtime',
    });
    expect(r.plan.rationale).toMatch(/rollback restores the code, not the schema/);
  });

  it('re-derives risk defaults when only the risk changes', () => {
    const r = validatePlanAnswers({ risk: 'high' }, base, checkout, cfg);
    if (!('plan' in r)) throw new Error(JSON.stringify(r.errors));
    expect(r.plan).toMatchObject({ risk: 'high', regressionThresholdPct: 0, observationSec: 3600, canarySteps: [1, 5, 10, 25, 50, 100] });
  });

  it('reports every bad field with a message a person can act on', () => {
    const r = validatePlanAnswers(
      {
        strategy: 'yolo',
        risk: 'extreme',
        errorRatePct: 'lots',
        p99Ms: '-5',
        availabilityPct: '120',
        dbMigration: 'maybe',
        rollbackTolerance: 'never',
        observationMin: '99999',
        rollbackOnRegression: 'perhaps',
        canarySteps: '50, 10',
      },
      base,
      checkout,
      cfg,
    );
    expect('errors' in r).toBe(true);
    if (!('errors' in r)) return;
    expect(Object.keys(r.errors).sort()).toEqual(
      [
        'availabilityPct',
        'canarySteps',
        'dbMigration',
        'errorRatePct',
        'observationMin',
        'p99Ms',
        'risk',
        'rollbackOnRegression',
        'rollbackTolerance',
        'strategy',
      ].sort(),
    );
    expect(r.errors.canarySteps).toMatch(/must increase/);
    expect(r.errors.errorRatePct).toMatch(/0 to 100/);
    expect(r.errors.strategy).toMatch(/blue-green, canary, rolling/);
  });

  it('keeps regression thresholds inside the risk range', () => {
    const r = validatePlanAnswers({ risk: 'medium', regressionThresholdPct: '8' }, base, checkout, cfg);
    expect('errors' in r && r.errors.regressionThresholdPct).toMatch(/medium risk the regression threshold is at most 5%/);
    const high = validatePlanAnswers({ risk: 'high', regressionThresholdPct: '1' }, base, checkout, cfg);
    expect('errors' in high && high.errors.regressionThresholdPct).toMatch(/at most 0%/);
  });

  it('refuses a strategy the service does not allow', () => {
    const canaryOnly = configWith((raw) => {
      raw.services[0].strategies = ['canary'];
    });
    const r = validatePlanAnswers({ strategy: 'rolling' }, base, canaryOnly.services[0], canaryOnly);
    expect('errors' in r && r.errors.strategy).toMatch(/allows only canary/);
  });
});
