// Markdown reports from a run's record: the deployment report (per the flow's report), an
// incident report when it rolled back, and a short stakeholder summary. Pure: text in, text out.
import { rolloutStages } from '../cluster/argo-rules.js';
import { schemaNote } from '../domain/migration-policy.js';
import { allDecisions, ownTarget, reachedTarget, type AuditRecord, type RunRecord } from '../store/records.js';
import { baselineOf, ms, pct, resourceRowsOf, sloRows, smokeRows, table, teamGateRows } from './tables.js';
import { labelName } from '../domain/text.js';
import { type RunView, type StepView, keptLockOf, outcomeOf, rollbackOf } from '../domain/run.js';

/** Optional LLM help for prose (lessons, summaries); deterministic text is used when it gives nothing. */
export type Summarise = (kind: 'lessons' | 'stakeholder' | 'incident', facts: Record<string, unknown>) => Promise<string | undefined>;

const MARK: Record<StepView['status'], string> = { pending: '·', running: '⏳', done: '✓', failed: '❌', warning: '⚠️', skipped: '–' };

export function stepMark(s: StepView['status']): string {
  return MARK[s];
}

/**
 * The run's clock as people read it: `wall` turns a moment into the wall-clock one and `speed` says
 * how much faster the run's clock ran (local mode's demo clock); the identity in production.
 */
export interface ReportClock {
  wall(moment: number): number;
  speed: number;
}
const RUN_CLOCK: ReportClock = { wall: (m) => m, speed: 1 };

export interface ReportOptions {
  clock?: ReportClock;
  /** The metric source's templates behind the SLO numbers, by metric (Prometheus); none for the sandbox's API. */
  queries?: Readonly<Record<string, string>> | undefined;
}

function timeWith(clock: ReportClock): (ms?: number) => string {
  return (ms) => (ms === undefined ? '' : new Date(clock.wall(ms)).toISOString().replace('T', ' ').slice(0, 19) + 'Z');
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${s % 60}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

function outcomeWord(run: RunView): string {
  switch (run.phase.status) {
    case 'succeeded':
      return 'Succeeded ✓';
    case 'rolled-back':
      return 'Rolled back ↩';
    case 'failed':
      return 'Failed ❌';
    case 'cancelled':
      return 'Cancelled';
    case 'stopped':
      return 'Stopped after a restart ⚠️';
    default:
      return run.phase.status;
  }
}

/** Facts the prose (deterministic or LLM) is written from: no secrets, nothing beyond the record. */
export function reportFacts(rec: RunRecord): Record<string, unknown> {
  return {
    service: rec.service,
    environment: rec.environment,
    version: rec.version,
    strategy: rec.strategy,
    risk: rec.plan.risk,
    status: rec.phase.status,
    outcome: outcomeOf(rec),
    rollback: rollbackOf(rec),
    failedSteps: rec.steps.filter((s) => s.status === 'failed').map((s) => `${s.title}: ${s.detail ?? ''}`),
    warnings: rec.steps.filter((s) => s.status === 'warning').map((s) => `${s.title}: ${s.detail ?? ''}`),
    baseline: ownTarget(rec).baseline,
    after: ownTarget(rec).after,
    smoke: ownTarget(rec).smoke,
    baselineSmoke: ownTarget(rec).baselineSmoke,
  };
}

/** Deterministic lessons: what the record shows, phrased as the next thing to do. */
export function deterministicLessons(rec: RunRecord): string[] {
  const out: string[] = [];
  const rb = rollbackOf(rec);
  if (rb?.automatic)
    out.push(`The automatic rollback worked as designed: ${rb.reason}. Reproduce the failure in staging before retrying ${rec.version}.`);
  else if (rb) out.push(`A person rolled back (${rb.reason}). Record what they saw so the gate can catch it next time.`);
  const t = reachedTarget(rec);
  if (t.smoke?.some((s) => !s.ok)) out.push("A smoke check failed: add a test for that path to the service's own suite.");
  // Only when something was judged: a run stopped before any traffic moved relied on nothing.
  if (!baselineOf(rec) && rec.targets.some((x) => x.decisions?.length))
    out.push(
      'No baseline traffic was measured: decisions relied on SLO targets only. Deploy when the service has traffic, or lower minRequests.',
    );
  if (rec.data.accepted)
    out.push(`A regression was accepted by ${labelName(rec.data.accepted.by)}: ${rec.data.accepted.explanation}. Follow up on it.`);
  if (rec.plan.dbMigration) out.push('This release carried a database migration: confirm it stays compatible with the previous version.');
  if (rec.phase.status === 'stopped') out.push(`Shipbot stopped this run after a restart: ${outcomeOf(rec)}.`);
  if (!out.length) out.push('Nothing unusual: the plan, gates and timings fit this release.');
  return out;
}

export function issuesOf(rec: RunRecord): string[] {
  const out: string[] = [];
  for (const s of rec.steps) {
    if (s.status === 'failed') out.push(`❌ ${s.title}: ${s.detail ?? 'failed'}`);
    if (s.status === 'warning') out.push(`⚠️ ${s.title}: ${s.detail ?? 'warning'}`);
  }
  for (const d of allDecisions(rec)) {
    // A rollback's reasons are its ROLLBACK findings; what was still unclear beside them is moot.
    const rolledBack = d.decision.verdict === 'ROLLBACK';
    for (const f of d.decision.findings)
      if (f.verdict === 'ROLLBACK' || (f.verdict !== 'CONTINUE' && !rolledBack))
        out.push(`${f.verdict === 'ROLLBACK' ? '❌' : '⚠️'} ${d.step} — ${f.rule}: ${f.detail}`);
  }
  return [...new Set(out)];
}

export function renderReport(rec: RunRecord, audit: AuditRecord[], lessons: string[], opts: ReportOptions = {}): string {
  const clock = opts.clock ?? RUN_CLOCK;
  const time = timeWith(clock);
  const p = rec.plan;
  const end = Math.max(rec.updatedAt, ...rec.steps.map((s) => s.endedAt ?? 0));
  const rs = ownTarget(rec).rollout;
  const lines: string[] = [];
  lines.push(`# Deployment report: ${rec.service} ${rec.version} → ${rec.environment}`, '');
  lines.push('## Overview', '');
  lines.push(
    table(
      ['', ''],
      [
        ['Run', rec.id],
        ['Outcome', `${outcomeWord(rec)}${outcomeOf(rec) ? ` — ${outcomeOf(rec)}` : ''}`],
        ['Service', `${rec.service} (${rec.environment})`],
        ['Version', `${rs ? `${rs.previousImage} → ${rs.newImage}` : rec.version}`],
        ...(rec.data.artifact
          ? [
              [
                'Exact build',
                `${rec.data.artifact.image} (the digest ${rec.data.artifact.environment} pulled first; every later step ran it)`,
              ],
            ]
          : []),
        [
          'Strategy',
          rs?.strategy === 'argo-rollout'
            ? `${p.strategy}, through Argo Rollout ${rs.rollout}'s own steps (${rolloutStages(rs.kind, rs.steps, rs.autoPromotion)
                .map((s) => s.title)
                .join(' → ')})`
            : `${p.strategy}${p.strategy === 'canary' ? ` (${p.canarySteps.join('% → ')}%)` : ''}`,
        ],
        ['Risk', p.risk],
        ['Requested by', rec.requester.name ?? rec.requester.userId],
        [
          'Approved by',
          rec.data.approvals?.map((a) => a.by).join(', ') || (rec.phase.status === 'pending-approval' ? 'pending' : 'not required'),
        ],
        ['Started', time(rec.createdAt)],
        ['Duration', `${duration((end - rec.createdAt) / clock.speed)}${clock.speed > 1 ? ` (demo clock ${clock.speed}× faster)` : ''}`],
      ],
    ),
    '',
  );
  lines.push('## Timeline', '');
  const timeline: Array<[number, string]> = [];
  for (const s of rec.steps) {
    if (s.startedAt !== undefined) timeline.push([s.startedAt, `${stepMark(s.status)} ${s.title}${s.detail ? ` — ${s.detail}` : ''}`]);
  }
  for (const e of audit) {
    if (e.actor !== 'shipbot' || e.action.includes('rollback') || e.action.includes('restart'))
      timeline.push([e.at, `${labelName(e.actor)}: ${e.action}${e.detail ? ` (${e.detail})` : ''}`]);
  }
  timeline.sort((x, y) => x[0] - y[0]);
  lines.push(...timeline.map(([t, text]) => `- ${time(t)} ${text}`), '');
  lines.push('## Pre-deployment validation', '');
  lines.push(
    table(
      ['check', 'result', 'detail'],
      (rec.data.validation ?? []).map((c) => [c.name, c.ok ? '✓' : c.severity === 'warning' ? '⚠️' : '❌', c.detail]),
    ),
    '',
  );
  lines.push('## Regression gates', '');
  const gates = rec.targets.flatMap((t) =>
    (t.decisions ?? [])
      .filter((d) => d.step === 'staging-gate' || d.step === 'regression-gate')
      .map((d) => [t.environment, d.decision.verdict, d.decision.explanation]),
  );
  lines.push(
    table(['gate', 'verdict', 'explanation'], gates),
    '',
    `Threshold: ${p.regressionThresholdPct}% · rollback on regression: ${p.rollbackOnRegression ? 'yes' : 'no, a person decides'}${rec.data.accepted ? ` · accepted by ${labelName(rec.data.accepted.by)}` : ''}`,
    '',
  );
  lines.push('## Strategy details', '');
  lines.push(`${p.rationale || `${p.strategy} was chosen for this deploy.`}`, '');
  const stages = rec.steps.filter((s) => s.key.startsWith('stage:'));
  lines.push(
    table(
      ['stage', 'result', 'detail'],
      stages.map((s) => [s.title, stepMark(s.status), s.detail ?? '']),
    ),
    '',
  );
  lines.push(`Monitoring: every ${p.monitoringIntervalSec}s, ${p.stageWindowSec}s per stage, observation ${p.observationSec}s.`, '');
  const judgedIn = reachedTarget(rec).environment;
  lines.push(
    `## SLO metrics: baseline vs after${judgedIn !== rec.environment ? ` (in ${judgedIn}, against production's live version)` : ''}`,
    '',
  );
  lines.push(table(['metric', 'baseline', 'after', 'change', 'target', 'status'], sloRows(rec)), '');
  if (opts.queries)
    lines.push(
      "Read from Prometheus with these templates (each side's track, version and window filled in):",
      '',
      ...Object.entries(opts.queries).map(([metric, q]) => `- ${metric}: \`${q}\``),
      '',
    );
  const teamRows = teamGateRows(rec);
  if (teamRows.length) lines.push('## Team gates', '', table(['gate', 'baseline', 'after', 'change', 'status', 'query'], teamRows), '');
  const resourceRows = resourceRowsOf(rec);
  if (resourceRows.length)
    lines.push('## Resources per pod', '', table(['resource', 'baseline', 'after', 'change', 'status', 'query'], resourceRows), '');
  lines.push('## Smoke results', '');
  lines.push(table(['check', 'live version before', 'new version', 'detail'], smokeRows(rec)), '');
  lines.push('## Issues', '');
  const issues = issuesOf(rec);
  lines.push(issues.length ? issues.map((i) => `- ${i}`).join('\n') : '_none_', '');
  lines.push('## Rollback details', '');
  const rb = rollbackOf(rec);
  if (rb) {
    lines.push(
      `- Trigger: ${rb.automatic ? 'automatic' : `requested by ${rb.by}`} at ${time(rb.at)}`,
      `- Reason: ${rb.reason}`,
      `- Verification: ${rb.verification ? `${rb.verification.ok ? '✓' : '❌'} ${rb.verification.detail} (old version serves ${rb.verification.oldTrafficPct}%)` : 'not verified'}`,
      `- Lock: ${lockLine(rec)}`,
      ...(schemaNote(rec.data.migrations) ? [`- Schema: ${schemaNote(rec.data.migrations)}`] : []),
      '',
    );
  } else lines.push('No rollback.', '');
  const migrations = Object.entries(rec.data.migrations ?? {});
  if (migrations.length) {
    lines.push('## Database migration', '');
    for (const [env, m] of migrations) {
      const policy = m!.backwardCompatible
        ? 'backward compatible: an automatic rollback restores the code and the schema stays migrated'
        : 'not backward compatible: an automatic rollback asks a person, and a rollback needs a down-migration';
      lines.push(`- ${env}: ${m!.ok ? '✓' : '❌'} ${m!.detail} — ${policy}`);
      if (m!.logTail?.length) lines.push('', '  ```', ...m!.logTail.map((l) => `  ${l}`), '  ```');
    }
    lines.push('');
  }
  lines.push('## Lessons learned', '');
  lines.push(...lessons.map((l) => `- ${l}`), '');
  return lines.join('\n');
}

/** Whether the run left its service locked: from the end the run recorded, never guessed from the rollback. */
function lockLine(rec: RunRecord): string {
  const kept = keptLockOf(rec);
  return kept
    ? `${rec.service} stays locked in ${rec.environment} after ${kept}, until someone unlocks it`
    : `${rec.service} in ${rec.environment} was released`;
}

export function renderIncident(rec: RunRecord, audit: AuditRecord[], narrative?: string, opts: ReportOptions = {}): string {
  const time = timeWith(opts.clock ?? RUN_CLOCK);
  const rb = rollbackOf(rec);
  const lines = [
    `# Incident: ${rec.service} ${rec.version} rolled back in ${reachedTarget(rec).environment}`,
    '',
    `- Run: ${rec.id}`,
    `- Detected: ${rb ? time(rb.at) : 'n/a'} (${rb?.automatic ? 'automatically by Shipbot' : `by ${rb?.by ?? 'n/a'}`})`,
    `- Cause as observed: ${rb?.reason ?? outcomeOf(rec) ?? 'unknown'}`,
    `- Impact: ${impact(rec)}`,
    `- Recovery: ${rb?.verification ? `${rb.verification.ok ? 'verified' : 'NOT verified'} — ${rb.verification.detail}` : 'not verified'}`,
    `- Lock: ${lockLine(rec)}`,
    ...(schemaNote(rec.data.migrations) ? [`- Schema: ${schemaNote(rec.data.migrations)}`] : []),
    '',
    '## What happened',
    '',
    narrative ??
      issuesOf(rec)
        .map((i) => `- ${i}`)
        .join('\n') ??
      '',
    '',
    '## Audit trail',
    '',
    ...audit.map((e) => `- ${time(e.at)} ${labelName(e.actor)}: ${e.action}${e.detail ? ` — ${e.detail}` : ''}`),
    '',
    '## Next steps',
    '',
    '- Find the cause with the logs and metrics of the failed version (Investigate shows them).',
    ...(keptLockOf(rec) ? [`- Unlock ${rec.service} in ${rec.environment} once the service is confirmed healthy.`] : []),
    ...(Object.values(rec.data.migrations ?? {}).some((m) => m?.ok && !m.backwardCompatible)
      ? ['- Write and run the down-migration: the previous version now runs on a schema it may not support.']
      : []),
    '- Fix, verify in staging, and deploy again.',
    '',
  ];
  return lines.join('\n');
}

/** The rollout stages that ran, even in part: the ones production users saw. */
export function stagesThatRan(steps: StepView[]): StepView[] {
  return steps.filter((s) => s.key.startsWith('stage:') && s.status !== 'pending' && s.status !== 'skipped');
}

function impact(rec: RunRecord): string {
  const stage = stagesThatRan(rec.steps).at(-1);
  const a = allDecisions(rec).at(-1)?.candidate;
  return `${stage ? `reached "${stage.title}"` : 'before production traffic'}${a ? `; new version error rate ${pct(a.errorRate)}, p99 ${ms(a.p99Ms)}` : ''}`;
}

/**
 * What users saw of a release that was rolled back, in words a stakeholder reads: "production
 * was never touched", or "about 5% of users got v1.2.3 for 2 minutes". The share is the largest
 * step that ran (a cutover or rolling update is everyone).
 */
export function userImpact(run: Pick<RunView, 'steps' | 'version' | 'updatedAt'>): string {
  const ran = stagesThatRan(run.steps);
  if (ran.length === 0) return 'Production was never touched: no user got the new version.';
  const share = Math.max(...ran.map((s) => Number(/^stage:canary-(\d+)$/.exec(s.key)?.[1] ?? 100)));
  const from = Math.min(...ran.map((s) => s.startedAt ?? run.updatedAt));
  const until = run.steps.find((s) => s.key === 'rollback')?.endedAt ?? run.updatedAt;
  const min = Math.round((until - from) / 60_000);
  const who = share >= 100 ? 'All users' : `About ${share}% of users`;
  return `${who} got ${run.version} for ${min < 1 ? 'under a minute' : min === 1 ? '1 minute' : `${min} minutes`}; the previous version serves everyone again.`;
}

/** A few lines for stakeholders: what shipped (or not), whether users were affected, what is next. */
export function stakeholderSummary(run: RunView & Partial<Pick<RunRecord, 'data'>>): string {
  const head = `${run.service} ${run.version} → ${run.environment} (${run.strategy})`;
  switch (run.phase.status) {
    case 'succeeded':
      return `✅ ${head}: deployed successfully. SLOs held through monitoring; no action needed.`;
    case 'rolled-back':
      return `↩️ ${head}: rolled back${rollbackOf(run)?.automatic ? ' automatically' : ''} — ${rollbackOf(run)?.reason ?? outcomeOf(run) ?? ''}. ${userImpact(run)}`;
    case 'failed':
      return `❌ ${head}: not deployed — ${outcomeOf(run) ?? 'failed'}.`;
    case 'cancelled':
      return `⏹ ${head}: cancelled — ${outcomeOf(run) ?? ''}. Nothing changed for users.`;
    case 'stopped':
      return `⚠️ ${head}: stopped after a Shipbot restart — ${outcomeOf(run) ?? ''}. An engineer is checking.`;
    default:
      return `⏳ ${head}: ${run.phase.status}${run.stage ? ` — ${run.stage}` : ''}.`;
  }
}
