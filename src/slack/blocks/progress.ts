// The live progress message of a run: the step list with ✓ ⏳ ❌ ⚠️, the current stage, and the
// buttons that fit the run's state. Pure: a RunView in, a Slack message out.
import { runTitle } from '../../reports/investigate.js';
import { FINAL_STATUSES, type RunStatus, type RunView, type StepStatus, outcomeOf, pendingDecision, reportName } from '../../domain/run.js';
import { actions, button, context, section, type Block, type Element } from './kit.js';
import { joinLinesWithin, LIMITS } from './limits.js';

export const RUN_ACTIONS = {
  rollback: 'run_rollback',
  accept: 'run_accept',
  investigate: 'run_investigate',
  unlock: 'run_unlock',
  approve: 'run_approve',
  cancel: 'run_cancel',
  resume: 'run_resume',
} as const;

const MARK: Record<StepStatus, string> = {
  done: '✓',
  running: '⏳',
  failed: '❌',
  warning: '⚠️',
  pending: '◻️',
  skipped: '↷',
};

const STATUS_LINE: Record<RunStatus, string> = {
  'pending-approval': '✋ Waiting for approval',
  queued: '🕒 Queued behind another deploy of this service',
  running: '⏳ Rolling out',
  'awaiting-decision': '⚠️ Waiting for a decision',
  paused: '⏸️ Paused',
  'rolling-back': '↩️ Rolling back',
  succeeded: '✅ Succeeded',
  'rolled-back': '↩️ Rolled back',
  failed: '❌ Failed',
  cancelled: '🚫 Cancelled',
  stopped: '⏹️ Stopped',
};

/** How a run is named (defined with the other wording in src/reports). */
export { runTitle };

/** One line for notifications and screen readers. */
export function progressText(run: RunView): string {
  // A finished run says its outcome; its last stage ("rolling back: …") would only repeat it.
  const stage = FINAL_STATUSES.has(run.phase.status) ? (outcomeOf(run) ? ` — ${outcomeOf(run)}` : '') : run.stage ? ` — ${run.stage}` : '';
  return `${runTitle(run)} (${run.strategy}): ${STATUS_LINE[run.phase.status]}${stage}`;
}

export function stepLines(run: RunView): string[] {
  return run.steps.map((s) => `${MARK[s.status]} ${s.title}${s.detail ? ` — ${s.detail}` : ''}`);
}

export function progressButtons(run: RunView): Element[] {
  const id = run.id;
  const rollback = button('Rollback', RUN_ACTIONS.rollback, id, {
    style: 'danger',
    confirm: {
      title: `Roll back ${run.service}?`,
      text: `Traffic goes back to the previous version of ${run.service} in ${run.environment}. Everyone in the thread sees who pressed it.`,
      confirm: 'Roll back',
      deny: 'Keep going',
    },
  });
  switch (run.phase.status) {
    case 'running':
      return [rollback];
    case 'paused':
      return [button('Resume', RUN_ACTIONS.resume, id, { style: 'primary' }), rollback];
    case 'awaiting-decision':
      return [button('Accept', RUN_ACTIONS.accept, id, { style: 'primary' }), rollback, button('Investigate', RUN_ACTIONS.investigate, id)];
    case 'pending-approval':
      return [button('Approve', RUN_ACTIONS.approve, id, { style: 'primary' }), button('Cancel', RUN_ACTIONS.cancel, id)];
    case 'queued':
      return [button('Cancel', RUN_ACTIONS.cancel, id)];
    case 'rolled-back':
    case 'failed':
    case 'stopped':
      return [button('Investigate', RUN_ACTIONS.investigate, id)];
    default:
      return [];
  }
}

export function progressBlocks(run: RunView): Block[] {
  const blocks: Block[] = [];
  const head = `*${runTitle(run)}* · ${run.strategy} · risk ${run.plan.risk} · requested by <@${run.requester.userId}>`;
  // While a decision is asked, the decision block below says why; the status line stays short.
  const asking = pendingDecision(run);
  const showStage = run.stage && !asking && !FINAL_STATUSES.has(run.phase.status);
  blocks.push(section(`${head}\n${STATUS_LINE[run.phase.status]}${showStage ? ` — ${run.stage}` : ''}`));
  // Once the run has ended, the outcome and the thread's own restart line say it: not a third time.
  const restart = run.restarts?.at(-1);
  if (restart && !FINAL_STATUSES.has(run.phase.status)) blocks.push(context(`↻ ${restart.note}`));
  if (run.steps.length) blocks.push(section(joinLinesWithin(stepLines(run), LIMITS.sectionText, (n) => `…and ${n} more steps`)));
  if (asking) {
    const d = asking;
    const findings = d.findings
      .filter((f) => f.verdict !== 'CONTINUE' && !d.explanation.includes(f.detail))
      .map((f) => `• ${f.rule}: ${f.detail}`);
    blocks.push(
      section(
        joinLinesWithin([`⚠️ *Decision needed:* ${d.explanation}`, ...findings], LIMITS.sectionText, (n) => `…and ${n} more findings`),
      ),
    );
  }
  const outcome = outcomeOf(run);
  if (outcome) blocks.push(section(`*Outcome:* ${outcome}`));
  const buttons = progressButtons(run);
  if (buttons.length) blocks.push(actions(`run:${run.id}`, buttons));
  blocks.push(context(`run \`${run.id}\`${reportName(run) ? ` · report \`${reportName(run)}\`` : ''}`));
  return blocks;
}

export function progressMessage(run: RunView): { text: string; blocks: Block[] } {
  return { text: progressText(run), blocks: progressBlocks(run) };
}
