// Free-text guidance → concrete plan changes, deterministically, with the reason for each.
// The Claude version proposes changes on top of this and falls back to it.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';
import { GENTLE_CANARY_STEPS, readGuidance } from './parse-keywords.js';
import { riskDefaults, timelineAdjustment } from './plan.js';
import { DB_MIGRATION_NOTE } from './recommend.js';
import { DeployPlan, type Strategy } from './types.js';

export interface GuidanceChange {
  field: keyof DeployPlan;
  from: unknown;
  to: unknown;
  reason: string;
}

export interface GuidanceResult {
  plan: DeployPlan;
  changes: GuidanceChange[];
  /** Guidance that could not be applied, and why. */
  warnings: string[];
}

export interface GuidanceContext {
  /** Gives risk changes their thresholds and observation periods. */
  cfg?: ShipbotConfig;
  /** Keeps strategy changes to what the service allows. */
  service?: ServiceConfig;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function applyGuidance(plan: DeployPlan, text: string, ctx: GuidanceContext = {}): GuidanceResult {
  const hints = readGuidance(text);
  const next: DeployPlan = { ...plan, slo: { ...plan.slo }, canarySteps: [...plan.canarySteps], focus: [...plan.focus] };
  const changes: GuidanceChange[] = [];
  const warnings: string[] = [];
  const set = <K extends keyof DeployPlan>(field: K, to: DeployPlan[K], reason: string) => {
    if (same(next[field], to)) return;
    changes.push({ field, from: next[field], to, reason });
    next[field] = to;
  };
  const allows = (s: Strategy) => !ctx.service || ctx.service.strategies.includes(s);

  if (hints.risk) {
    const risk = hints.risk.value;
    set('risk', risk, `'${hints.risk.keyword}' in the guidance`);
    if (ctx.cfg) {
      const d = riskDefaults(risk, ctx.cfg);
      set('regressionThresholdPct', d.regressionThresholdPct, `${risk}-risk default`);
      set('observationSec', d.observationSec, `${risk}-risk observation period (${d.observationMin} min)`);
    }
  }
  if (hints.strategy && !allows(hints.strategy.value)) {
    warnings.push(
      `'${hints.strategy.keyword}' suggests ${hints.strategy.value}, but ${ctx.service!.name} allows only ${ctx.service!.strategies.join(', ')}; kept ${next.strategy}.`,
    );
  } else if (hints.strategy) {
    const why =
      hints.strategy.value === 'blue-green'
        ? `'${hints.strategy.keyword}': blue-green switches traffic at once and rolls back instantly`
        : `'${hints.strategy.keyword}': canary validates on a small share of traffic first`;
    set('strategy', hints.strategy.value, why);
  }
  const instant = hints.instantRollback ?? (hints.strategy?.value === 'blue-green' ? hints.strategy : undefined);
  if (instant) set('rollbackTolerance', 'instant', `'${instant.keyword}' asks for an instant rollback`);
  if (hints.gentleSteps && next.strategy === 'canary') {
    set('canarySteps', [...GENTLE_CANARY_STEPS], `'${hints.gentleSteps.keyword}': smaller first canary steps`);
  }
  if (hints.dbMigration) {
    set(
      'dbMigration',
      hints.dbMigration.value,
      hints.dbMigration.value ? `'${hints.dbMigration.keyword}'. ${DB_MIGRATION_NOTE}` : `'${hints.dbMigration.keyword}'`,
    );
  }
  const focus = [...next.focus];
  for (const f of hints.focus) if (!focus.includes(f.value)) focus.push(f.value);
  if (focus.length !== next.focus.length) set('focus', focus, hints.focus.map((f) => `'${f.keyword}'`).join(', '));

  if (hints.timeline) {
    const t = timelineAdjustment(hints.timeline.value, next.risk, next);
    set('observationSec', t.observationSec, `'${hints.timeline.keyword}': ${t.note ?? ''}`.trim());
    set('stageWindowSec', t.stageWindowSec, `'${hints.timeline.keyword}': ${t.note ?? ''}`.trim());
  }

  if (text.trim() && !next.guidance.includes(text.trim())) {
    next.guidance = [next.guidance, text.trim()].filter(Boolean).join('\n').slice(0, 2000);
  }
  if (changes.length > 0) {
    next.rationale = [plan.rationale, `Guidance: ${changes.map((c) => `${String(c.field)} → ${JSON.stringify(c.to)}`).join(', ')}.`]
      .filter(Boolean)
      .join(' ');
  }
  return { plan: DeployPlan.parse(next), changes, warnings };
}
