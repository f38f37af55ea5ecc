// Guidance keywords: the words in a request or in --guidance that change how we deploy.
// One table, read by the parser (request), recommend.ts (rationale) and guidance.ts (plan).
import type { Focus, RiskLevel, Strategy, Timeline } from './types.js';

/** Traffic steps for a careful canary: small first exposures before the big jumps. */
export const GENTLE_CANARY_STEPS = [1, 5, 10, 25, 50, 100];

export interface GuidanceHints {
  strategy?: { value: Strategy; keyword: string };
  risk?: { value: RiskLevel; keyword: string };
  /** A careful rollout was asked for: small canary steps. */
  gentleSteps?: { keyword: string };
  /** The old version must be back within seconds. */
  instantRollback?: { keyword: string };
  dbMigration?: { value: boolean; keyword: string };
  focus: Array<{ value: Focus; keyword: string }>;
  timeline?: { value: Timeline; keyword: string };
}

/** Lower case, one space, hyphens and spaces treated alike so `zero downtime` = `zero-downtime`. */
function normalise(text: string): string {
  return ` ${text.toLowerCase().replace(/[_\s]+/g, ' ')} `;
}

function find(text: string, re: RegExp): string | undefined {
  const m = re.exec(text);
  return m ? m[0].trim() : undefined;
}

const SEP = '[- ]?';

/** Reads every guidance keyword in the text. Pure and deterministic. */
export function readGuidance(text: string): GuidanceHints {
  const t = normalise(text);
  const hints: GuidanceHints = { focus: [] };

  const zeroDowntime = find(t, new RegExp(`\\b(zero${SEP}downtime|no${SEP}downtime|without downtime)\\b`));
  const instant = find(t, new RegExp(`\\b(instant(ly)?|immediate|fast|quick)${SEP}roll${SEP}?backs?\\b`));
  if (instant) hints.instantRollback = { keyword: instant };
  if (zeroDowntime || instant) hints.strategy = { value: 'blue-green', keyword: (zeroDowntime ?? instant)! };

  const high = find(t, new RegExp(`\\b(high${SEP}risk|risky|risk[:= ]+high|critical change)\\b`));
  const low = find(t, new RegExp(`\\b(low${SEP}risk|risk[:= ]+low)\\b`));
  const medium = find(t, new RegExp(`\\b(medium${SEP}risk|med${SEP}risk|risk[:= ]+medium)\\b`));
  if (high) {
    hints.risk = { value: 'high', keyword: high };
    hints.gentleSteps = { keyword: high };
    // zero downtime asks for blue-green explicitly; high risk alone asks for progressive validation.
    if (!hints.strategy) hints.strategy = { value: 'canary', keyword: high };
  } else if (low) hints.risk = { value: 'low', keyword: low };
  else if (medium) hints.risk = { value: 'medium', keyword: medium };

  const careful = find(t, /\b(careful(ly)?|cautious(ly)?|conservative(ly)?|gentle|gently|slowly)\b/);
  if (careful && !hints.gentleSteps) {
    hints.gentleSteps = { keyword: careful };
    if (!hints.strategy) hints.strategy = { value: 'canary', keyword: careful };
  }

  const noMigration = find(t, /\b(no|without|not a|zero) (db |database |schema )?(migrations?|schema changes?)\b/);
  const migration = find(t, new RegExp(`\\b((db|database|schema)${SEP}migrations?|migrations?|schema changes?)\\b`));
  if (noMigration) hints.dbMigration = { value: false, keyword: noMigration };
  else if (migration) hints.dbMigration = { value: true, keyword: migration };

  const security = find(t, /\b(security|secure|cve|vulnerability)\b/);
  const performance = find(t, /\b(performance|perf|latency)\b/);
  const compliance = find(t, /\b(compliance|compliant|audit|regulatory)\b/);
  if (security) hints.focus.push({ value: 'security', keyword: security });
  if (performance) hints.focus.push({ value: 'performance', keyword: performance });
  if (compliance) hints.focus.push({ value: 'compliance', keyword: compliance });

  const hotfix = find(t, new RegExp(`\\bhot${SEP}fix(es)?\\b`));
  const urgent = find(t, /\b(urgent(ly)?|asap|emergency)\b/);
  const tight = find(t, /\b(tight|time[- ]critical)\b/);
  if (hotfix) hints.timeline = { value: 'hotfix', keyword: hotfix };
  else if (urgent) hints.timeline = { value: 'urgent', keyword: urgent };
  else if (tight) hints.timeline = { value: 'tight', keyword: tight };

  return hints;
}

/** Short notes a person reads: `'zero-downtime' → blue-green`. */
export function describeHints(h: GuidanceHints): string[] {
  const notes: string[] = [];
  // Plain words for the person who typed them: what Shipbot understood from which words.
  if (h.strategy) notes.push(`read "${h.strategy.keyword}" as ${h.strategy.value}`);
  if (h.risk) notes.push(`read "${h.risk.keyword}" as ${h.risk.value} risk`);
  if (h.gentleSteps) notes.push(`read "${h.gentleSteps.keyword}" as gentle canary steps (${GENTLE_CANARY_STEPS.join('% → ')}%)`);
  if (h.dbMigration)
    notes.push(`read "${h.dbMigration.keyword}" as ${h.dbMigration.value ? 'a database migration' : 'no database migration'}`);
  for (const f of h.focus) notes.push(`read "${f.keyword}" as: watch ${f.value} closely`);
  if (h.timeline) notes.push(`read "${h.timeline.keyword}" as the timeline ${h.timeline.value}`);
  return notes;
}
