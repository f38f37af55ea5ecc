// Messages at the end of a run and for Investigate: the thread summary, the stakeholder
// broadcast, and the diagnostics. Long lists are cut with a count.
import { stagesThatRan, stakeholderSummary } from '../../reports/report.js';
import { FINAL_STATUSES, type RunStatus, type RunView, outcomeOf, reportName, keptLockOf } from '../../domain/run.js';
import { actions, button, context, section, type Block } from './kit.js';
import { joinLinesWithin, LIMITS } from './limits.js';
import { RUN_ACTIONS, runTitle, stepLines } from './progress.js';

const HEADLINE: Partial<Record<RunStatus, string>> = {
  succeeded: '✅ Deployed',
  'rolled-back': '↩️ Rolled back',
  failed: '❌ Failed',
  cancelled: '🚫 Cancelled',
  stopped: '⏹️ Stopped',
};

/**
 * How long the run took, as a person lived it: wall-clock. The demo clock (local mode) runs
 * `speed` times faster; its minutes are seconds here, and the message says so once.
 */
export function tookWords(run: Pick<RunView, 'createdAt' | 'updatedAt'>, speed = 1): string {
  const ms = Math.max(0, run.updatedAt - run.createdAt) / Math.max(1, speed);
  const took = ms < 60_000 ? `${Math.round(ms / 1000)} s` : `${Math.round(ms / 60_000)} min`;
  return speed > 1 ? `${took} (demo clock ${speed}× faster)` : took;
}

/** `unlocked`: the lock the run kept has been lifted since; the summary says so and offers no Unlock. */
export function summaryMessage(
  run: RunView,
  opts: { unlocked?: boolean; clockSpeed?: number | undefined; reportUrl?: string | undefined } = {},
): { text: string; blocks: Block[] } {
  if (!FINAL_STATUSES.has(run.phase.status)) throw new Error(`run ${run.id} is ${run.phase.status}, not finished: no summary yet`);
  // A release stopped at its staging rehearsal says staging, not the production it never reached.
  const stoppedAtStaging =
    run.environment === 'production' &&
    stagesThatRan(run.steps).length === 0 &&
    run.steps.some((s) => s.key === 'staging-deploy' && s.status !== 'pending' && s.status !== 'skipped');
  const atStaging = run.phase.status === 'rolled-back' && stoppedAtStaging;
  const headline = atStaging
    ? `${HEADLINE['rolled-back']} in staging: *${run.service} ${run.version}* never reached production`
    : `${HEADLINE[run.phase.status] ?? run.phase.status}: *${runTitle(run)}*`;
  const head = atStaging
    ? `${headline} · ${tookWords(run, opts.clockSpeed)}`
    : `${headline} with ${run.strategy} in ${tookWords(run, opts.clockSpeed)}`;
  const blocks: Block[] = [section(head + (outcomeOf(run) ? `\n${outcomeOf(run)}` : ''))];
  const problems = run.steps.filter((s) => s.status === 'failed' || s.status === 'warning');
  if (problems.length) {
    blocks.push(section(joinLinesWithin(stepLines({ ...run, steps: problems }), LIMITS.sectionText, (n) => `…and ${n} more`)));
  }
  const kept = keptLockOf(run);
  if (kept && opts.unlocked)
    blocks.push(section(`🔓 ${run.service} in ${run.environment} has been unlocked since: new deploys can start.`));
  else if (kept) {
    // Shipit-style: production stays locked until a person has looked; say so where it happened.
    blocks.push(
      section(
        `🔒 ${run.service} stays locked in ${run.environment} after ${kept.replace(/ \(run .*$/, '')}: no new deploy starts until it is checked and unlocked.`,
      ),
    );
    blocks.push(
      actions(`unlock:${run.id}`, [
        button('Unlock', RUN_ACTIONS.unlock, run.id, {
          confirm: {
            title: `Unlock ${run.service}?`,
            text: `New deploys of ${run.service} to ${run.environment} can start again. Only an incident commander (or whoever holds the lock) may.`,
            confirm: 'Unlock',
            deny: 'Keep locked',
          },
        }),
      ]),
    );
  }
  blocks.push(context(`requested by <@${run.requester.userId}> · run \`${run.id}\`${reportWords(run, opts.reportUrl)}`));
  return { text: headline.replace(/\*/g, ''), blocks };
}

/** The report as a message names it: a link to its page (SHIPBOT_PUBLIC_URL), else its attached file's name. */
function reportWords(run: RunView, url: string | undefined): string {
  const name = reportName(run);
  if (!name) return '';
  return url ? ` · <${url}|report ${name.replace(/\.md$/, '')}>` : ` · report \`${name}\``;
}

/** For the stakeholder channel: the reports' stakeholder wording, pointing at the thread. */
export function broadcastMessage(run: RunView, channel?: string, reportUrl?: string): { text: string; blocks: Block[] } {
  const where = channel ? ` · details in <#${channel}>` : '';
  const text = stakeholderSummary(run);
  return {
    text,
    blocks: [section(text), context(`requested by <@${run.requester.userId}>${where}${reportWords(run, reportUrl)}`)],
  };
}
