// Investigate, as an incident commander reads it under stress: what failed in one sentence, the
// numbers that tripped with the baseline beside them, and the concrete next action, in at most
// 12 lines. Everything else (pods, events, log tails) goes in a file attached to the thread.
import { labelName, namesOf, plainDates, truncate, withNames } from '../domain/text.js';
import { type Diagnostics, type RunView, outcomeOf, pendingDecision, keptLockOf, rollbackOf } from '../domain/run.js';
import { stagesThatRan } from './report.js';

const MAX_LINES = 12;

/** How a run is named wherever a person reads it: `checkout v1.2.3 → production`. */
export function runTitle(run: Pick<RunView, 'service' | 'version' | 'environment'>): string {
  return `${run.service} ${run.version} → ${run.environment}`;
}

function whatFailed(run: RunView): string {
  const steps = [...run.steps].reverse();
  if (run.phase.status === 'awaiting-decision') {
    const asking = steps.find((s) => s.status === 'failed' || s.status === 'warning');
    return `${asking?.title ?? 'A check'} needs a decision: ${pendingDecision(run)?.explanation ?? asking?.detail ?? 'see the progress message'}.`;
  }
  const failed = steps.find((s) => s.status === 'failed');
  if (failed) {
    // "canary 5% failed (serving 5%): error rate …" rather than "failed: serving 5%: error rate …".
    const served = /^(serving [\d.]+%)(?: \([^)]*\))?: ([\s\S]*)$/.exec(failed.detail ?? '');
    const why = served ? served[2] : (failed.detail ?? outcomeOf(run) ?? 'see the progress message');
    return `${failed.title} failed${served ? ` (${served[1]})` : ''}: ${why}.`;
  }
  if (run.phase.status === 'rolled-back' || run.phase.status === 'rolling-back') {
    const stage = stagesThatRan(run.steps).at(-1);
    return `Nothing failed: ${outcomeOf(run) ?? 'rolled back on request'}${stage ? `, during ${stage.title}` : ''}.`;
  }
  return outcomeOf(run) ? `Nothing failed: ${outcomeOf(run)}.` : `Nothing has failed so far (${run.phase.status}).`;
}

/** The findings that tripped (not the ones that passed, nor "too little data" beside a real breach). */
function evidence(d: Diagnostics): string[] {
  const tripped = (d.findings ?? []).filter((f) => f.verdict === 'ROLLBACK');
  const unsure = (d.findings ?? []).filter((f) => f.verdict === 'INCONCLUSIVE');
  const lines = (tripped.length ? tripped : unsure).slice(0, 3).map((f) => `• ${f.rule}: ${truncate(f.detail, 220)}`);
  // The measured numbers with the baseline beside them, whatever rule tripped (an SLO rule names no baseline).
  lines.push(...d.metrics.slice(0, 3).map((m) => `• ${m.metric}: ${m.candidate} vs ${m.baseline} baseline (${m.delta})`));
  const sick = d.pods.filter((p) => !p.ready || p.restarts > 0).slice(0, 2);
  lines.push(...sick.map((p) => `• pod ${p.name}: ${p.reason ?? p.phase}, ${p.restarts} restarts${p.version ? ` (${p.version})` : ''}`));
  return lines.length ? lines : ['• no failing check or metric was recorded'];
}

function nextStep(run: RunView, d: Diagnostics): string {
  const where = `${run.service} ${run.environment}`;
  const productionTouched = stagesThatRan(run.steps).length > 0;
  switch (run.phase.status) {
    case 'awaiting-decision':
      return 'Press *Accept* to continue or *Rollback* to go back to the previous version.';
    case 'rolled-back': {
      // A person rolled back a release no check found wrong: there is no build to fix.
      const rb = rollbackOf(run);
      const tripped = (d.findings ?? []).some((f) => f.verdict === 'ROLLBACK') || run.steps.some((s) => s.status === 'failed');
      if (rb && !rb.automatic && !tripped)
        return `${productionTouched ? 'Production is back on the previous version' : 'Production was never touched'}, as ${labelName(rb.by)} asked; nothing failed, so there is nothing to fix. Deploy ${run.version} again when you are ready.`;
      if (!productionTouched)
        return `Production was never touched and can be deployed. Fix the build, then \`deploy ${run.service} <fixed version>\`.`;
      return keptLockOf(run) && d.stillLocked !== false
        ? `Production is back on the previous version and locked. Fix the build; once checked, an incident commander presses *Unlock* (or \`unlock ${where}\`), then deploy the fix.`
        : `Production is back on the previous version. Fix the build, then deploy it again.`;
    }
    case 'failed':
    case 'stopped':
      return `Check what serves now: \`kubectl -n ${run.environment} get pods -l app=${run.service}\`, then press *Rollback*, or fix it by hand and \`unlock ${where}\`.`;
    case 'running':
    case 'paused':
      return 'Nothing to do unless it looks wrong: *Rollback* goes back to the previous version at once.';
    default:
      return 'Nothing to do.';
  }
}

/** The briefing: at most 12 lines in three parts. */
export function investigateBriefing(run: RunView, d: Diagnostics): string[] {
  const lines = [
    `🔎 *Investigate* ${runTitle(run)}`,
    `*What failed:* ${truncate(whatFailed(run), 400)}`,
    '*Evidence:*',
    ...evidence(d),
    `*Next:* ${nextStep(run, d)}`,
  ];
  return lines.length <= MAX_LINES ? lines : [...lines.slice(0, MAX_LINES - 1), lines.at(-1)!];
}

function podLines(pods: Diagnostics['pods']): string[] {
  if (!pods.length) return ['- none found'];
  return pods.map(
    (p) =>
      `- ${p.name}: ${p.phase}${p.ready ? ', ready' : ', not ready'}, ${p.restarts} restarts${p.reason ? `, ${p.reason}` : ''}${p.version ? `, ${p.version}` : ''}`,
  );
}

/** Everything collected, for the file attached to the thread. */
export function diagnosticsMarkdown(run: RunView, d: Diagnostics): string {
  const out = [
    `# Diagnostics: ${runTitle(run)} (run ${run.id})`,
    '',
    ...investigateBriefing(run, d)
      .slice(1)
      .map((l) => l.replace(/\*/g, '**')),
    '',
  ];
  out.push(
    '## Metrics (new version vs baseline)',
    '',
    ...(d.metrics.length ? d.metrics.map((m) => `- ${m.metric}: ${m.candidate} vs ${m.baseline} (${m.delta})`) : ['- no samples']),
    '',
  );
  out.push('## Checks that did not pass', '', ...(d.failingChecks.length ? d.failingChecks.map((c) => `- ${c}`) : ['- none']), '');
  // No clock time: the run's clock is the demo's in local mode; "at the decision" is what matters.
  const at = d.podsAt ? ` in ${d.podsAt.environment} at the decision` : '';
  out.push(`## Pods${at}`, '', ...podLines(d.pods), '');
  if (d.podsNow) out.push('## Pods now', '', ...podLines(d.podsNow), '');
  out.push(
    `## Recent events${at}`,
    '',
    ...(d.events.length ? d.events.map((e) => `- ${e.at} ${e.object} ${e.reason}: ${e.message}`) : ['- none']),
    '',
  );
  if (d.logTail.length) out.push('## Log tail', '', '```', ...d.logTail, '```', '');
  // A file is read outside Slack's rendering: people by name, dates as text.
  const names = namesOf([rollbackOf(run)?.by ?? ''], run.requester.name ? [[run.requester.userId, run.requester.name]] : []);
  return withNames(plainDates(out.join('\n')), names);
}
