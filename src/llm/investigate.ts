// Investigate through Claude: the answer it must give (schema + tool) and the check that every
// reading is grounded in the numbered facts a person can see beside it in the thread.
import { z } from 'zod';
import type { ToolSpec } from './claude.js';
import type { Diagnosis, Fact } from './diagnose.js';
import { cleanModelText } from './text.js';

export const ClaudeInvestigation = z.strictObject({
  summary: z.string().min(1).max(1500),
  likelyCause: z.string().min(1).max(400),
  nextSteps: z.array(z.string().min(1).max(300)).min(1).max(5),
  /** Fact ids like F3. */
  evidence: z.array(z.string().max(10)).max(40),
});
export type ClaudeInvestigation = z.infer<typeof ClaudeInvestigation>;

export const INVESTIGATE_TOOL: ToolSpec<ClaudeInvestigation> = {
  name: 'report_investigation',
  description: 'Report the likely cause of the unhealthy deployment, a short summary, next steps, and the fact ids (F1, F2…) relied on.',
  schema: ClaudeInvestigation,
};

export type InvestigationCheck = { ok: true; diagnosis: Diagnosis } | { ok: false; reason: string };

/**
 * Keeps the fact ids that exist. When facts were collected but none is cited, the reading is
 * not grounded in them and is refused. Text is cleaned of Slack mentions and bounded.
 */
export function checkInvestigation(answer: ClaudeInvestigation, facts: Fact[]): InvestigationCheck {
  const known = new Set(facts.map((f) => f.id));
  const evidence = [...new Set(answer.evidence.map((e) => e.trim().toUpperCase()))].filter((e) => known.has(e));
  if (facts.length > 0 && evidence.length === 0) {
    return { ok: false, reason: "Claude's investigation cites none of the collected facts" };
  }
  const diagnosis: Diagnosis = {
    summary: cleanModelText(answer.summary, 1500),
    likelyCause: cleanModelText(answer.likelyCause, 400),
    nextSteps: answer.nextSteps.map((s) => cleanModelText(s, 300)).filter((s) => s.length > 0),
    evidence,
  };
  if (!diagnosis.summary || !diagnosis.likelyCause || diagnosis.nextSteps.length === 0) {
    return { ok: false, reason: "Claude's investigation was empty once cleaned" };
  }
  return { ok: true, diagnosis };
}
