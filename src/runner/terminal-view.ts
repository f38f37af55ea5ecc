// The step list as terminal text: the same ✓ ⏳ ❌ ⚠️ markers the Slack progress message shows.
import { stepMark } from '../reports/report.js';
import { type RunView, type StepView, outcomeOf, pendingDecision } from '../domain/run.js';
import { plainDates } from '../domain/text.js';

export function stepLine(s: StepView): string {
  return plainDates(`${stepMark(s.status)} ${s.title}${s.detail ? ` — ${s.detail}` : ''}`);
}

/** The whole view: a header, one line per step, then the pending decision or outcome. */
export function renderRun(run: RunView): string[] {
  const lines = [`${run.service} ${run.version} → ${run.environment} (${run.strategy}) — ${run.phase.status} [run ${run.id}]`];
  for (const s of run.steps) lines.push(`  ${stepLine(s)}`);
  const asked = pendingDecision(run);
  const outcome = outcomeOf(run);
  if (asked) {
    lines.push(`  ⚠️ Decision needed: ${asked.explanation}`);
  } else if (outcome) {
    lines.push(`  ${outcome}`);
  } else if (run.stage) {
    lines.push(`  ${run.stage}`);
  }
  return lines.map(plainDates);
}

/** Lines that changed between two views (for logs and pipes, where redrawing is impossible). */
export function changedLines(prev: RunView | undefined, next: RunView): string[] {
  const out: string[] = [];
  if (!prev || prev.phase.status !== next.phase.status) out.push(`[${next.phase.status}]${outcomeOf(next) ? ` ${outcomeOf(next)}` : ''}`);
  for (const s of next.steps) {
    const before = prev?.steps.find((p) => p.key === s.key);
    if (s.status === 'pending') continue;
    if (!before || before.status !== s.status || (s.status !== 'running' && before.detail !== s.detail)) out.push(stepLine(s));
  }
  const asked = pendingDecision(next);
  if (asked && prev?.phase.status !== 'awaiting-decision') out.push(`⚠️ Decision needed: ${asked.explanation}`);
  return out.map(plainDates);
}

/** Exit codes of `shipbot deploy`: 0 success, 2 rolled back, 1 anything else. */
export function exitCodeFor(run: RunView): number {
  if (run.phase.status === 'succeeded') return 0;
  if (run.phase.status === 'rolled-back') return 2;
  return 1;
}
