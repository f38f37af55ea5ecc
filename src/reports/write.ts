// Writes a finished run's reports to disk: `<runId>.md`, and `<runId>-incident.md` when it rolled
// back; and, apart, the stakeholder summary, which the runner asks for once the lock is released.
// The optional `summarise` hook (Claude) may add prose; the deterministic text stands without it.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuditRecord, RunRecord } from '../store/records.js';
import { type RunView, rollbackOf } from '../domain/run.js';
import { namesOf, plainDates, withNames } from '../domain/text.js';
import {
  deterministicLessons,
  type ReportOptions,
  renderIncident,
  renderReport,
  reportFacts,
  stakeholderSummary,
  type Summarise,
} from './report.js';

export interface WrittenReports {
  report: string;
  incident?: string;
}

async function ask(
  summarise: Summarise | undefined,
  kind: Parameters<Summarise>[0],
  facts: Record<string, unknown>,
): Promise<string | undefined> {
  if (!summarise) return undefined;
  try {
    const text = await summarise(kind, facts);
    return text?.trim() || undefined;
  } catch {
    return undefined; // the deterministic text stands
  }
}

export async function writeRunReports(
  view: RunView,
  rec: RunRecord,
  audit: AuditRecord[],
  dir: string,
  summarise?: Summarise,
  opts: ReportOptions = {},
): Promise<WrittenReports> {
  await mkdir(dir, { recursive: true });
  const full: RunRecord = { ...rec, ...view };
  const facts = reportFacts(full);
  const llmLessons = await ask(summarise, 'lessons', facts);
  const lessons = llmLessons ? [llmLessons] : deterministicLessons(full);
  const report = path.join(dir, `${rec.id}.md`);
  // Markdown files are read outside Slack: its date tokens become their UTC text, and ids the names of people.
  const names = namesOf(
    audit.map((e) => e.actor),
    full.requester.name ? [[full.requester.userId, full.requester.name]] : [],
  );
  const forPeople = (text: string) => withNames(plainDates(text), names);
  await writeFile(report, forPeople(renderReport(full, audit, lessons, opts)));
  let incident: string | undefined;
  if (rollbackOf(full)) {
    incident = path.join(dir, `${rec.id}-incident.md`);
    await writeFile(incident, forPeople(renderIncident(full, audit, await ask(summarise, 'incident', facts), opts)));
  }
  return { report, ...(incident ? { incident } : {}) };
}

/** The stakeholder summary of an ended run: Claude's words when it answers, else the deterministic ones. */
export async function writeSummary(rec: RunRecord, summarise?: Summarise): Promise<string> {
  return (await ask(summarise, 'stakeholder', reportFacts(rec))) ?? stakeholderSummary(rec);
}
