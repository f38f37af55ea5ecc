// Deterministic guidance: keywords → plan changes, each with from, to and reason.
import { describe, expect, it } from 'vitest';
import { findService } from '../../src/config.js';
import { applyGuidance } from '../../src/domain/guidance.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import { DeployPlan } from '../../src/domain/types.js';
import { configWith, NOW, shippedConfig as cfg } from './helpers.js';

const checkout = findService(cfg, 'checkout')!;
function basePlan(): DeployPlan {
  const r = parseCommand('deploy checkout v1.2.3', cfg, NOW);
  if (!r.ok || r.command.intent !== 'deploy') throw new Error('bad fixture');
  return buildPlan(r.command, checkout, cfg);
}

describe('applyGuidance', () => {
  it('zero downtime → blue-green with instant rollback', () => {
    const { plan, changes } = applyGuidance(basePlan(), 'zero downtime please');
    expect(plan.strategy).toBe('blue-green');
    expect(plan.rollbackTolerance).toBe('instant');
    expect(changes).toContainEqual(expect.objectContaining({ field: 'strategy', from: 'canary', to: 'blue-green' }));
    expect(changes.find((c) => c.field === 'strategy')!.reason).toMatch(/zero downtime/);
  });

  it('high risk → canary, gentle steps, risk high and its defaults (with cfg)', () => {
    const { plan, changes } = applyGuidance(basePlan(), 'this is high-risk', { cfg });
    expect(plan).toMatchObject({
      risk: 'high',
      strategy: 'canary',
      canarySteps: [1, 5, 10, 25, 50, 100],
      regressionThresholdPct: 0,
      observationSec: 3600,
    });
    expect(changes.map((c) => c.field).sort()).toEqual(['canarySteps', 'observationSec', 'regressionThresholdPct', 'risk'].sort());
  });

  it('database migration → dbMigration with the rollback caveat', () => {
    const { plan, changes } = applyGuidance(basePlan(), 'includes a DB migration');
    expect(plan.dbMigration).toBe(true);
    expect(changes[0].reason).toMatch(/restores the code, not the schema/);
  });

  it('security / performance / compliance → focus', () => {
    const { plan } = applyGuidance(basePlan(), 'security patch; watch performance and compliance');
    expect(plan.focus).toEqual(['security', 'performance', 'compliance']);
  });

  it('hotfix → shorter waits at medium risk', () => {
    const base = basePlan();
    const { plan, changes } = applyGuidance(base, 'hotfix');
    expect(plan.observationSec).toBe(base.observationSec / 2);
    expect(changes.find((c) => c.field === 'observationSec')!.reason).toMatch(/hotfix/);
  });

  it('no keywords → no changes, guidance text kept', () => {
    const base = basePlan();
    const { plan, changes } = applyGuidance(base, 'the usual, thanks');
    expect(changes).toEqual([]);
    expect(plan).toEqual({ ...base, guidance: 'the usual, thanks' });
  });

  it('does not switch to a strategy the service does not allow, and says so', () => {
    const canaryOnly = configWith((raw) => {
      raw.services[0].strategies = ['canary'];
    });
    const { plan, changes, warnings } = applyGuidance(basePlan(), 'zero downtime', { cfg: canaryOnly, service: canaryOnly.services[0] });
    expect(plan.strategy).toBe('canary');
    expect(changes.find((c) => c.field === 'strategy')).toBeUndefined();
    expect(warnings.join(' ')).toMatch(/allows only canary/);
  });

  it('is deterministic and returns a valid plan', () => {
    const a = applyGuidance(basePlan(), 'high risk, zero downtime, db migration, urgent', { cfg });
    const b = applyGuidance(basePlan(), 'high risk, zero downtime, db migration, urgent', { cfg });
    expect(a).toEqual(b);
    expect(() => DeployPlan.parse(a.plan)).not.toThrow();
    expect(a.plan.strategy).toBe('blue-green');
    expect(a.plan.observationSec).toBe(3600);
  });
});
