// Investigate without Claude: numbered fact lines from the diagnostics, and a rule-based reading
// of them (e.g. "OOMKilled on 3 pods → memory limit"). Pure: no I/O. Claude's version is checked
// against the same fact ids, so both cite the facts a person can see in the thread.
import type { Diagnostics } from '../domain/run.js';
import { oneLine } from './text.js';

export interface Fact {
  id: string;
  text: string;
}

export interface Diagnosis {
  summary: string;
  likelyCause: string;
  nextSteps: string[];
  /** Ids of the facts (F1, F2…) the reading relied on. */
  evidence: string[];
}

const MAX_EVENTS = 15;
const MAX_LOG_LINES = 20;

/** Numbers every fact so a reading can cite it; caps events and log lines to the most recent. */
export function factsOf(d: Diagnostics): Fact[] {
  const lines: string[] = [];
  for (const p of d.pods) {
    const parts = [`phase ${p.phase}`, p.ready ? 'ready' : 'not ready', `${p.restarts} restart${p.restarts === 1 ? '' : 's'}`];
    if (p.reason) parts.push(`reason ${p.reason}`);
    lines.push(`pod ${p.name}${p.version ? ` (${p.version})` : ''}: ${parts.join(', ')}`);
  }
  for (const e of d.events.slice(-MAX_EVENTS)) lines.push(`event ${e.reason} on ${e.object} at ${e.at}: ${e.message}`);
  for (const m of d.metrics) lines.push(`metric ${m.metric}: ${m.candidate} vs ${m.baseline} baseline (${m.delta})`);
  for (const c of d.failingChecks) lines.push(`failing check: ${c}`);
  for (const l of d.logTail.slice(-MAX_LOG_LINES)) lines.push(`log: ${l}`);
  return lines.map((text, i) => ({ id: `F${i + 1}`, text: oneLine(text) }));
}

export function formatFacts(facts: Fact[]): string {
  return facts.length === 0 ? '(no facts were collected)' : facts.map((f) => `${f.id}: ${f.text}`).join('\n');
}

interface Finding {
  cause: string;
  summary: string;
  steps: string[];
  evidence: string[];
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function versions(pods: Diagnostics['pods']): string {
  const vs = [...new Set(pods.map((p) => p.version).filter((v): v is string => !!v))];
  return vs.length > 0 ? ` of ${vs.join(', ')}` : '';
}

/** A signed number at the start of a delta like "+7.9 pts" or "+105%". */
function risingDelta(delta: string): boolean {
  const m = /^\s*\+\s*([0-9]*\.?[0-9]+)/.exec(delta);
  return !!m && Number(m[1]) > 0;
}

/**
 * The rules, most decisive first. Each looks for one pattern in the facts and says what it
 * usually means and what to do next.
 */
export function diagnose(d: Diagnostics, facts: Fact[] = factsOf(d)): Diagnosis {
  const idsWhere = (pred: (text: string) => boolean) => facts.filter((f) => pred(f.text)).map((f) => f.id);
  const podsWith = (re: RegExp) => d.pods.filter((p) => p.reason && re.test(p.reason));
  const findings: Finding[] = [];

  const pull = podsWith(/ImagePull|ErrImage|InvalidImageName/i);
  const pullEvents = d.events.filter((e) => /pull/i.test(e.message) && /fail|back-?off|not found/i.test(`${e.reason} ${e.message}`));
  if (pull.length > 0 || pullEvents.length > 0) {
    findings.push({
      cause: 'The image could not be pulled: the tag probably does not exist in the registry (or the registry refused access).',
      summary: `image pull failing on ${plural(Math.max(pull.length, 1), 'pod')}${versions(pull)}`,
      steps: ['Check that the image tag was pushed to the registry and is spelled right', 'Roll back, or redeploy with a tag that exists'],
      evidence: idsWhere((t) => /ImagePull|ErrImage|InvalidImageName|pull/i.test(t)),
    });
  }

  const oom = podsWith(/OOMKilled/i);
  const oomEvents = d.events.filter((e) => /OOM/i.test(`${e.reason} ${e.message}`));
  if (oom.length > 0 || oomEvents.length > 0) {
    findings.push({
      cause: `OOMKilled on ${plural(Math.max(oom.length, 1), 'pod')}${versions(oom)} → the memory limit is too low for this version, or it leaks memory.`,
      summary: `containers OOMKilled on ${plural(Math.max(oom.length, 1), 'pod')}${versions(oom)}`,
      steps: [
        'Roll back if it has not happened yet',
        "Compare the new version's memory use with the container memory limit",
        'Raise the limit or fix the leak before redeploying',
      ],
      evidence: idsWhere((t) => /OOM/i.test(t)),
    });
  }

  const crash = podsWith(/CrashLoopBackOff|^Error$/i);
  if (crash.length > 0) {
    const first = crash[0]!.name;
    findings.push({
      cause: `The new version crashes after starting (CrashLoopBackOff on ${plural(crash.length, 'pod')}${versions(crash)}).`,
      summary: `crash loop on ${plural(crash.length, 'pod')}${versions(crash)}`,
      steps: [
        'Roll back if it has not happened yet',
        `Read the previous container's logs: kubectl logs ${first} --previous`,
        'Check configuration, secrets and migrations the new version expects',
      ],
      evidence: idsWhere((t) => /CrashLoopBackOff|reason Error|log:/i.test(t)),
    });
  }

  const restarting = d.pods.filter((p) => p.restarts >= 3 && !crash.includes(p) && !oom.includes(p));
  if (restarting.length > 0) {
    findings.push({
      cause: `Pods restart repeatedly (${restarting.map((p) => `${p.name}: ${p.restarts}`).join(', ')}).`,
      summary: `${plural(restarting.length, 'pod')} restarting repeatedly`,
      steps: ['Read the container logs and the last termination reason of the restarting pods'],
      evidence: idsWhere((t) => restarting.some((p) => t.startsWith(`pod ${p.name}`))),
    });
  }

  const scheduling = d.events.filter((e) => /FailedScheduling/i.test(e.reason) || /Insufficient (cpu|memory)/i.test(e.message));
  if (scheduling.length > 0) {
    findings.push({
      cause: 'New pods cannot be scheduled: the cluster lacks CPU or memory for them.',
      summary: 'pods cannot be scheduled',
      steps: ['Free capacity or lower the resource requests', 'Prefer a rolling or canary strategy that needs less spare capacity'],
      evidence: idsWhere((t) => /FailedScheduling|Insufficient/i.test(t)),
    });
  }

  const notReady = d.pods.filter((p) => !p.ready && p.phase === 'Running' && !p.reason);
  if (notReady.length > 0) {
    findings.push({
      cause: `Readiness probes fail on ${plural(notReady.length, 'running pod')}${versions(notReady)}.`,
      summary: `${plural(notReady.length, 'pod')} running but not ready`,
      steps: ['Check the readiness probe endpoint of the new version and what it depends on'],
      evidence: idsWhere((t) => notReady.some((p) => t.startsWith(`pod ${p.name}`))),
    });
  }

  // A failing smoke check is decisive; other failed rollout checks repeat what the metrics show, so they come last.
  const smoke = d.failingChecks.filter((c) => /^smoke\b/i.test(c));
  const rules = d.failingChecks.filter((c) => !/^smoke\b/i.test(c));
  if (smoke.length > 0) {
    findings.push({
      cause: `Smoke checks fail: ${smoke.map((c) => oneLine(c.replace(/^smoke\s+/i, ''), 80)).join('; ')}.`,
      summary: `${plural(smoke.length, 'smoke check')} failing`,
      steps: ['Run the failing check by hand against the new version and read its response'],
      evidence: idsWhere((t) => t.startsWith('failing check:') && /smoke/i.test(t)),
    });
  }

  const errorMetrics = d.metrics.filter((m) => /error|5xx/i.test(m.metric) && risingDelta(m.delta));
  if (errorMetrics.length > 0) {
    const m = errorMetrics[0]!;
    findings.push({
      cause: `The new version fails more requests than the baseline (${m.metric} ${m.candidate} vs ${m.baseline}).`,
      summary: `${m.metric} up (${m.candidate} vs ${m.baseline})`,
      steps: [
        "Look at the 5xx responses in the new version's logs for the failing endpoint",
        'Roll back if the error rate breaches the SLO',
      ],
      evidence: idsWhere((t) => t.startsWith(`metric ${m.metric}:`)),
    });
  }

  const latencyMetrics = d.metrics.filter((m) => /p9\d|p50|latency|duration/i.test(m.metric) && risingDelta(m.delta));
  if (latencyMetrics.length > 0) {
    const m = latencyMetrics[0]!;
    findings.push({
      cause: `The new version is slower than the baseline (${m.metric} ${m.candidate} vs ${m.baseline}).`,
      summary: `${m.metric} up (${m.candidate} vs ${m.baseline})`,
      steps: ['Profile the slow path or compare traces of old and new version', 'Check new dependencies and queries added in this release'],
      evidence: idsWhere((t) => t.startsWith(`metric ${m.metric}:`)),
    });
  }

  if (rules.length > 0) {
    findings.push({
      cause: `Rollout checks did not pass: ${rules.map((c) => oneLine(c, 80)).join('; ')}.`,
      summary: `${plural(rules.length, 'rollout check')} not passing`,
      steps: ['Compare the new version with the baseline on the metric named in the check'],
      evidence: idsWhere((t) => t.startsWith('failing check:') && !/smoke/i.test(t)),
    });
  }

  if (findings.length === 0) {
    return {
      summary:
        facts.length === 0
          ? 'No diagnostics were collected.'
          : 'The collected facts show no clear cause: pods, events, checks and metrics look normal.',
      likelyCause: 'No clear cause in the collected facts.',
      nextSteps: ['Compare the metrics over a longer window', 'Read the container logs of the new version'],
      evidence: [],
    };
  }
  const nextSteps = [...new Set(findings.flatMap((f) => f.steps))].slice(0, 5);
  return {
    summary: `Found: ${findings.map((f) => f.summary).join('; ')}.`,
    likelyCause: findings[0]!.cause,
    nextSteps,
    evidence: [...new Set(findings.flatMap((f) => f.evidence))],
  };
}
