// The limits every plan keeps, whichever way it was made (issue 32, finding 4): a risk floor the
// requester cannot claim below, high-risk limits that are rules in chat as in the modal, and
// Claude's guidance that may only tighten. Through the real parser, planner and admission.
import { describe, expect, it } from 'vitest';
import { findService } from '../../src/config.js';
import { parseCommand } from '../../src/domain/parse.js';
import { buildPlan, validatePlanAnswers } from '../../src/domain/plan.js';
import { riskFloor } from '../../src/domain/risk-policy.js';
import type { DeployRequest } from '../../src/domain/types.js';
import { applyAdjustments } from '../../src/llm/adjust-plan.js';
import { admitStart } from '../../src/runner/admission.js';
import { planFor } from '../helpers/plan.js';
import { configWith, NOW, shippedConfig } from './helpers.js';

const floored = configWith((raw) => {
  const checkout = raw.services.find((s: { name: string }) => s.name === 'checkout');
  checkout.minRisk = 'medium';
  checkout.environments.production.minRisk = 'high';
});
const IC = { userId: 'U_IC' };

function planFromChat(text: string, cfg = shippedConfig) {
  const parsed = parseCommand(text, cfg, NOW);
  if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error(`not a deploy: ${text}`);
  const request = parsed.command as DeployRequest;
  return { request, plan: buildPlan(request, findService(cfg, request.service!)!, cfg) };
}

function admit(plan: ReturnType<typeof planFor>, cfg = shippedConfig) {
  return admitStart(cfg, NOW.getTime(), {
    request: { service: plan.service, version: plan.version } as DeployRequest,
    plan,
    requester: IC,
    origin: { kind: 'terminal' },
  });
}

describe('risk floor (minRisk)', () => {
  it('is the higher of the service and the environment', () => {
    const checkout = findService(floored, 'checkout')!;
    expect(riskFloor(checkout, 'production')).toBe('high');
    expect(riskFloor(checkout, 'staging')).toBe('medium');
    expect(riskFloor(findService(floored, 'search')!, 'production')).toBe('low');
  });
  it('a chat request claiming low risk is planned at the floor, and says so', () => {
    const { plan } = planFromChat('deploy checkout v1.2.3 to production --risk low', floored);
    expect(plan.risk).toBe('high');
    expect(plan.rationale).toMatch(/Risk raised from low to high/);
  });
  it('admission refuses a plan below the floor however it was made', () => {
    const res = admit(planFor({ risk: 'low', regressionThresholdPct: 5 }), floored);
    expect(res).toMatchObject({ ok: false, reason: 'invalid', message: expect.stringMatching(/at least high risk/) });
  });
  it('the modal refuses a risk below the floor on its field', () => {
    const checkout = findService(floored, 'checkout')!;
    const base = planFromChat('deploy checkout v1.2.3', floored).plan;
    const res = validatePlanAnswers({ risk: 'low' }, base, checkout, floored);
    expect('errors' in res && res.errors.risk).toMatch(/at least high risk/);
  });
});

describe('high-risk limits are rules everywhere', () => {
  it('chat: --risk high --regression-threshold 100 --no-rollback-on-regression is not a valid plan', () => {
    const { plan } = planFromChat('deploy checkout v1.2.3 canary --risk high --regression-threshold 100 --no-rollback-on-regression');
    const res = admit(plan);
    expect(res.ok).toBe(false);
    if (!res.ok) {
      expect(res.message).toMatch(/regression threshold is at most 0%/);
      expect(res.message).toMatch(/always rolls back on a regression/);
    }
  });
  it('an observation shorter than the high-risk minimum is refused (guidance or Claude cannot shorten it)', () => {
    const res = admit(planFor({ risk: 'high', regressionThresholdPct: 0, observationSec: 0 }));
    expect(res).toMatchObject({ ok: false, message: expect.stringMatching(/at least 50 s \(5 samples\), not 0 s/) });
    expect(admit(planFor({ risk: 'high', regressionThresholdPct: 0, observationSec: 50 })).ok).toBe(true);
  });
});

describe("Claude's guidance only tightens", () => {
  const base = planFor({ observationSec: 1800, regressionThresholdPct: 2, canarySteps: [5, 25, 50, 100] });
  const strategies = ['canary', 'blue-green', 'rolling'];
  it.each([
    [{ field: 'regressionThresholdPct' as const, to: 20, reason: 'be lenient' }, /regressionThresholdPct 2 → 20/],
    [{ field: 'observationSec' as const, to: 0, reason: 'no time' }, /observationSec 1800 → 0/],
    [{ field: 'canarySteps' as const, to: [50, 100], reason: 'faster' }, /canary steps/],
    [{ field: 'strategy' as const, to: 'rolling' as const, reason: 'simpler' }, /rolling/],
  ])('refuses %o', (change, why) => {
    const res = applyAdjustments(base, { changes: [change] }, strategies);
    expect(res.ok).toBe(false);
    if (!res.ok) expect(res.reason).toMatch(why);
  });
  it('accepts a longer observation and smaller first step', () => {
    const res = applyAdjustments(
      base,
      {
        changes: [
          { field: 'observationSec', to: 3600, reason: 'careful' },
          { field: 'canarySteps', to: [1, 5, 25, 50, 100], reason: 'gentle' },
          { field: 'regressionThresholdPct', to: 1, reason: 'strict' },
        ],
      },
      strategies,
    );
    expect(res.ok).toBe(true);
  });
});
