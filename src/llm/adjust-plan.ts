// Guidance through Claude: the adjustments it may propose (schema + tool) and the pure step that
// applies them to a plan. Only the fields listed here can change, and only towards caution:
// Claude may tighten a plan (longer windows, smaller steps, a lower threshold), never loosen it.
// Automatic rollback cannot be turned off and the risk level (which decides approvals) cannot be
// changed this way. `from` values are always read from our plan, never the model.
import { z } from 'zod';
import { CanarySteps, DeployPlan, Focus, RollbackTolerance, Strategy } from '../domain/types.js';
import type { ToolSpec } from './claude.js';
import { cleanModelText } from './text.js';

/** The deterministic guidance result shape (src/domain/guidance.ts `applyGuidance`). */
export interface PlanChange {
  field: string;
  from: unknown;
  to: unknown;
  reason: string;
}

const reason = z.string().min(1).max(300);
const DAY = 86_400;

/** One change per field, each bounded so "be thorough" cannot turn into a week-long window. */
export const Adjustment = z.discriminatedUnion('field', [
  z.strictObject({ field: z.literal('strategy'), to: Strategy, reason }),
  z.strictObject({ field: z.literal('canarySteps'), to: CanarySteps, reason }),
  z.strictObject({ field: z.literal('observationSec'), to: z.number().int().min(0).max(DAY), reason }),
  z.strictObject({
    field: z.literal('stageWindowSec'),
    to: z
      .number()
      .int()
      .min(0)
      .max(6 * 3600),
    reason,
  }),
  z.strictObject({ field: z.literal('monitoringIntervalSec'), to: z.number().int().min(5).max(600), reason }),
  z.strictObject({ field: z.literal('regressionThresholdPct'), to: z.number().min(0).max(20), reason }),
  z.strictObject({ field: z.literal('focus'), to: z.array(Focus).max(3), reason }),
  z.strictObject({ field: z.literal('rollbackTolerance'), to: RollbackTolerance, reason }),
  z.strictObject({ field: z.literal('dbMigration'), to: z.boolean(), reason }),
]);
export type Adjustment = z.infer<typeof Adjustment>;

export const Adjustments = z.strictObject({
  changes: z.array(Adjustment).max(9),
});
export type Adjustments = z.infer<typeof Adjustments>;

export const ADJUST_TOOL: ToolSpec<Adjustments> = {
  name: 'adjust_plan',
  description: 'List the plan changes the guidance asks for, each with a short reason. An empty list means no change.',
  schema: Adjustments,
};

/** The plan fields the prompt shows: what the model may reason about. */
export function planForPrompt(plan: DeployPlan): string {
  const {
    service,
    version,
    environment,
    strategy,
    risk,
    canarySteps,
    observationSec,
    stageWindowSec,
    monitoringIntervalSec,
    regressionThresholdPct,
    rollbackOnRegression,
    rollbackTolerance,
    focus,
    dbMigration,
  } = plan;
  return JSON.stringify(
    {
      service,
      version,
      environment,
      strategy,
      risk,
      dbMigration,
      canarySteps,
      observationSec,
      stageWindowSec,
      monitoringIntervalSec,
      regressionThresholdPct,
      rollbackOnRegression,
      rollbackTolerance,
      focus,
    },
    null,
    2,
  );
}

export type ApplyResult = { ok: true; plan: DeployPlan; changes: PlanChange[] } | { ok: false; reason: string };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** Why the change makes the plan less careful, or undefined when it does not. */
export function loosens(plan: DeployPlan, c: Adjustment): string | undefined {
  switch (c.field) {
    case 'observationSec':
    case 'stageWindowSec':
      return c.to < plan[c.field] ? `${c.field} ${plan[c.field]} → ${c.to}` : undefined;
    case 'monitoringIntervalSec':
    case 'regressionThresholdPct':
      return c.to > plan[c.field] ? `${c.field} ${plan[c.field]} → ${c.to}` : undefined;
    case 'canarySteps':
      return c.to[0]! > plan.canarySteps[0]! || c.to.length < plan.canarySteps.length
        ? `canary steps ${plan.canarySteps.join('/')} → ${c.to.join('/')}`
        : undefined;
    case 'rollbackTolerance':
      return c.to !== 'instant' && plan.rollbackTolerance === 'instant' ? 'an instant rollback made slower' : undefined;
    case 'dbMigration':
      return plan.dbMigration && !c.to ? 'the migration dropped' : undefined;
    case 'strategy':
      return c.to === 'rolling' ? `${plan.strategy} → rolling, which has no monitored stage before all traffic moves` : undefined;
    case 'focus':
      return plan.focus.some((f) => !c.to.includes(f)) ? 'a focus removed' : undefined;
  }
}

/**
 * Applies the model's adjustments. Refuses the whole answer (so the caller falls back) when a
 * strategy is not allowed for the service, a field repeats, or the result is not a valid plan.
 * Like the rule-based `applyGuidance`, it keeps the guidance text and notes the changes in the
 * plan's rationale.
 */
export function applyAdjustments(plan: DeployPlan, adj: Adjustments, allowedStrategies: readonly string[], guidance = ''): ApplyResult {
  const seen = new Set<string>();
  const next: Record<string, unknown> = { ...plan };
  const changes: PlanChange[] = [];
  for (const c of adj.changes) {
    if (seen.has(c.field)) return { ok: false, reason: `Claude changed ${c.field} twice` };
    seen.add(c.field);
    if (c.field === 'strategy' && !allowedStrategies.includes(c.to)) {
      return {
        ok: false,
        reason: `Claude proposed strategy '${c.to}', which this service does not allow (${allowedStrategies.join(', ')})`,
      };
    }
    if (same(plan[c.field], c.to)) continue;
    const looser = loosens(plan, c);
    if (looser) return { ok: false, reason: `Claude proposed a looser plan (${looser}); it may only tighten one` };
    changes.push({ field: c.field, from: plan[c.field], to: c.to, reason: cleanModelText(c.reason, 300) });
    next[c.field] = c.to;
  }
  const text = guidance.trim();
  if (text && !plan.guidance.includes(text)) next.guidance = [plan.guidance, text].filter(Boolean).join('\n').slice(0, 2000);
  if (changes.length > 0) {
    next.rationale = [plan.rationale, `Guidance (Claude): ${changes.map((c) => `${c.field} → ${JSON.stringify(c.to)}`).join(', ')}.`]
      .filter(Boolean)
      .join(' ');
  }
  const parsed = DeployPlan.safeParse(next);
  if (!parsed.success)
    return { ok: false, reason: `Claude's adjustments make an invalid plan (${parsed.error.issues[0]?.message ?? 'invalid'})` };
  return { ok: true, plan: parsed.data, changes };
}
