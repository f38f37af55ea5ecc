// Report prose without Claude: the lessons-learned bullets and the stakeholder summary, written
// from recorded facts only. Pure: no I/O. Claude's version of the same texts starts from these
// facts too (see prompts/lessons.md, prompts/stakeholder.md).
import { z } from 'zod';
import type { ToolSpec } from './claude.js';
import { oneLine } from './text.js';

export type SummaryKind = 'lessons' | 'stakeholder' | 'incident';

/**
 * What a report knows about a finished run. Reports may pass their own fact object instead
 * (src/reports `reportFacts`): every field is read defensively and unknown ones are shown as-is.
 */
export type SummaryFacts = {
  service: string;
  version: string;
  environment: string;
  strategy?: string;
  /** Final run status: succeeded, rolled-back, failed, cancelled, stopped… */
  status: string;
  /** Why the run ended, in one line. */
  outcome?: string;
  durationSec?: number;
  previousVersion?: string;
  steps?: Array<{ title: string; status: string; detail?: string }>;
  /** Gate/SLO findings, e.g. "error rate 8% vs 0.2% baseline". */
  findings?: string[];
  /** Whether users saw errors or slowness, if known. */
  userImpact?: string;
  /** Anything else worth knowing, one line each. */
  notes?: string[];
};

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v : typeof v === 'number' ? String(v) : undefined);
const strs = (v: unknown): string[] => (Array.isArray(v) ? v.map(str).filter((x): x is string => !!x) : []);

/** Reads any fact object (ours or the reports') into SummaryFacts. */
export function toSummaryFacts(facts: Record<string, unknown>): SummaryFacts {
  const steps: NonNullable<SummaryFacts['steps']> = Array.isArray(facts.steps)
    ? facts.steps.flatMap((s: unknown) => {
        const o = (s ?? {}) as Record<string, unknown>;
        const title = str(o.title);
        return title ? [{ title, status: str(o.status) ?? 'unknown', detail: str(o.detail) }] : [];
      })
    : [];
  // The reports pass failed steps and warnings as "title: detail" lines.
  const split = (line: string, status: string): { title: string; status: string; detail?: string } => {
    const i = line.indexOf(': ');
    return i > 0 ? { title: line.slice(0, i), status, detail: line.slice(i + 2) || undefined } : { title: line, status };
  };
  steps.push(...strs(facts.failedSteps).map((l) => split(l, 'failed')), ...strs(facts.warnings).map((l) => split(l, 'warning')));
  const rollback = (facts.rollback ?? undefined) as Record<string, unknown> | undefined;
  return {
    service: str(facts.service) ?? 'the service',
    version: str(facts.version) ?? 'the new version',
    environment: str(facts.environment) ?? 'production',
    strategy: str(facts.strategy),
    status: str(facts.status) ?? 'unknown',
    outcome: str(facts.outcome) ?? str(rollback?.reason),
    durationSec: typeof facts.durationSec === 'number' ? facts.durationSec : undefined,
    previousVersion: str(facts.previousVersion),
    steps,
    findings: strs(facts.findings),
    userImpact: str(facts.userImpact),
    notes: strs(facts.notes),
  };
}

const SHOWN = new Set([
  'service',
  'version',
  'environment',
  'strategy',
  'status',
  'outcome',
  'durationSec',
  'previousVersion',
  'steps',
  'findings',
  'userImpact',
  'notes',
  'failedSteps',
  'warnings',
]);

/** The facts as labelled lines, for prompts; fields we do not know are shown as compact JSON. */
export function formatSummaryFacts(facts: Record<string, unknown>): string {
  const f = toSummaryFacts(facts);
  const lines = [
    `service: ${f.service}`,
    `version: ${f.version}`,
    `environment: ${f.environment}`,
    f.strategy && `strategy: ${f.strategy}`,
    `status: ${f.status}`,
    f.outcome && `outcome: ${f.outcome}`,
    f.durationSec !== undefined && `duration: ${formatDuration(f.durationSec)}`,
    f.previousVersion && `previous version: ${f.previousVersion}`,
    ...(f.steps ?? []).map((s) => `step: ${s.title} — ${s.status}${s.detail ? ` — ${s.detail}` : ''}`),
    ...(f.findings ?? []).map((x) => `finding: ${x}`),
    f.userImpact && `user impact: ${f.userImpact}`,
    ...(f.notes ?? []).map((n) => `note: ${n}`),
    ...Object.entries(facts)
      .filter(([k, v]) => !SHOWN.has(k) && v !== undefined && v !== null)
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
  ];
  return lines
    .filter((l): l is string => typeof l === 'string' && l.length > 0)
    .map((l) => oneLine(l, 600))
    .join('\n');
}

export function formatDuration(sec: number): string {
  const s = Math.max(0, Math.round(sec));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
}

const ENDINGS: Record<string, string> = {
  succeeded: 'is now live',
  'rolled-back': 'was rolled back; the previous version is serving users again',
  failed: 'could not be completed',
  cancelled: 'was cancelled before completion',
  stopped: 'was stopped safely and needs a check by the deploying team',
};

export function stakeholderSummary(f: SummaryFacts): string {
  const env = f.environment === 'production' ? '' : ` (${f.environment})`;
  const ending = ENDINGS[f.status] ?? `ended with status ${f.status}`;
  const sentences = [`${f.service} ${f.version}${env} ${ending}.`];
  if (f.status === 'rolled-back' || f.status === 'failed') {
    if (f.outcome) sentences.push(`Reason: ${oneLine(f.outcome, 200).replace(/\.$/, '')}.`);
  }
  if (f.userImpact) sentences.push(`User impact: ${oneLine(f.userImpact, 200).replace(/\.$/, '')}.`);
  else if (f.status === 'succeeded') sentences.push('No problems were detected during the rollout.');
  if (f.status === 'rolled-back' || f.status === 'failed') sentences.push('The team will investigate before trying again.');
  return sentences.join(' ');
}

export function lessonsLearned(f: SummaryFacts): string {
  const bullets: string[] = [];
  const steps = f.steps ?? [];
  const failed = steps.filter((s) => s.status === 'failed');
  const warned = steps.filter((s) => s.status === 'warning');
  if (f.status === 'succeeded') {
    bullets.push(
      `The ${f.strategy ?? ''} rollout of ${f.version} completed${f.durationSec !== undefined ? ` in ${formatDuration(f.durationSec)}` : ''} without a rollback.`.replace(
        'The  rollout',
        'The rollout',
      ),
    );
  } else if (f.status === 'rolled-back') {
    bullets.push(
      `The automatic safety net worked: ${f.version} was rolled back${f.outcome ? ` because ${oneLine(f.outcome, 200).replace(/\.$/, '')}` : ''}.`,
    );
  } else {
    bullets.push(`The run ended as ${f.status}${f.outcome ? `: ${oneLine(f.outcome, 200).replace(/\.$/, '')}` : ''}.`);
  }
  for (const s of failed)
    bullets.push(`Step "${s.title}" failed${s.detail ? ` (${oneLine(s.detail, 160)})` : ''}; find out why before the next attempt.`);
  for (const s of warned)
    bullets.push(`Step "${s.title}" raised a warning${s.detail ? ` (${oneLine(s.detail, 160)})` : ''}; worth a look.`);
  for (const x of (f.findings ?? []).slice(0, 3)) bullets.push(`Gate finding: ${oneLine(x, 200)}.`);
  if (bullets.length < 2) bullets.push('No gate findings were recorded; keep the same checks for the next release.');
  return bullets
    .slice(0, 6)
    .map((b) => `- ${b}`)
    .join('\n');
}

export function incidentSummary(f: SummaryFacts): string {
  const lines = [`${f.service} ${f.version} (${f.environment}) ended as ${f.status}${f.outcome ? `: ${oneLine(f.outcome, 300)}` : ''}.`];
  const failed = (f.steps ?? []).filter((s) => s.status === 'failed');
  if (failed.length > 0)
    lines.push(`Failed: ${failed.map((s) => `${s.title}${s.detail ? ` (${oneLine(s.detail, 160)})` : ''}`).join('; ')}.`);
  if (f.userImpact) lines.push(`User impact: ${oneLine(f.userImpact, 200)}.`);
  return lines.join(' ');
}

export function deterministicSummary(kind: SummaryKind, facts: Record<string, unknown>): string {
  const f = toSummaryFacts(facts);
  if (kind === 'lessons') return lessonsLearned(f);
  if (kind === 'incident') return incidentSummary(f);
  return stakeholderSummary(f);
}

export const SummaryText = z.strictObject({ text: z.string().min(1).max(4000) });

export const SUMMARY_TOOL: ToolSpec<z.infer<typeof SummaryText>> = {
  name: 'write_summary',
  description: 'Return the written text.',
  schema: SummaryText,
};
