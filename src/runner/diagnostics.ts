// What Investigate collects about a run: the numbers of its last decision beside the baseline,
// the checks that did not pass, the cluster's signals, and the pods, events and logs, as they
// were when Shipbot decided (read then) and as they are now.
import type { RolloutDriver, RolloutState, WorkloadRef } from '../cluster/types.js';
import { type Diagnostics, keptLockOf } from '../domain/run.js';
import type { Environment } from '../domain/types.js';
import { allDecisions, ownTarget, type RunRecord } from '../store/records.js';
import type { Store } from '../store/run-store.js';
import { rollbackTarget } from './model/steps.js';
import { fmtPct as pct } from '../domain/judge-core.js';

export interface DiagnosticsSources {
  store: Store;
  driver: RolloutDriver;
  /** Pods, events and log tails from the cluster. */
  diagnose?: ((ref: WorkloadRef, state: RolloutState) => Promise<Pick<Diagnostics, 'pods' | 'events' | 'logTail'>>) | undefined;
}

export async function collectDiagnostics(rec: RunRecord, ref: WorkloadRef | undefined, src: DiagnosticsSources): Promise<Diagnostics> {
  const d: Diagnostics = { runId: rec.id, pods: [], events: [], metrics: [], failingChecks: [], logTail: [] };
  const last = allDecisions(rec).at(-1);
  if (last?.candidate && last.baseline) {
    const c = last.candidate;
    const b = last.baseline;
    d.metrics.push(
      {
        metric: 'error rate',
        candidate: pct(c.errorRate),
        baseline: pct(b.errorRate),
        delta: `${((c.errorRate - b.errorRate) * 100).toFixed(2)} pts`,
      },
      {
        metric: 'p99 latency',
        candidate: `${c.p99Ms.toFixed(0)} ms`,
        baseline: `${b.p99Ms.toFixed(0)} ms`,
        delta: b.p99Ms ? `${(((c.p99Ms - b.p99Ms) / b.p99Ms) * 100).toFixed(0)}%` : 'n/a',
      },
      {
        metric: 'throughput',
        candidate: `${c.throughputRps.toFixed(1)} rps`,
        baseline: `${b.throughputRps.toFixed(1)} rps`,
        delta: `${(c.throughputRps - b.throughputRps).toFixed(1)} rps`,
      },
    );
  }
  if (last) d.findings = last.decision.findings;
  if (keptLockOf(rec)) d.stillLocked = (await src.store.getLock(rec.service, rec.environment))?.runId === rec.id;
  for (const f of last?.decision.findings ?? []) if (f.verdict !== 'CONTINUE') d.failingChecks.push(`${f.rule}: ${f.detail}`);
  for (const s of ownTarget(rec).smoke ?? []) if (!s.ok) d.failingChecks.push(`smoke ${s.name}: ${s.detail}`);
  const rollout = ownTarget(rec).rollout;
  if (ref && rollout) {
    try {
      for (const s of await src.driver.signals(ref, rollout)) d.failingChecks.push(`${s.kind}: ${JSON.stringify(s)}`);
    } catch (err) {
      d.failingChecks.push(`cluster signals unavailable: ${(err as Error).message}`);
    }
  }
  const seen = rec.data.atDecision;
  if (seen)
    Object.assign(d, {
      pods: seen.pods,
      events: seen.events,
      logTail: seen.logTail,
      podsAt: { at: seen.at, environment: seen.environment },
    });
  if (src.diagnose && ref && rollout) {
    try {
      const now = await src.diagnose(ref, rollout);
      if (seen) d.podsNow = now.pods;
      else Object.assign(d, now);
    } catch (err) {
      d.logTail.push(`diagnostics from the cluster failed: ${(err as Error).message}`);
    }
  }
  return d;
}

/** Where the decision was made: the target a rollback restores (staging when production was never touched), else the run's own. */
export function decisionTarget(rec: RunRecord): { environment: Environment; state: RolloutState | undefined } {
  const t = rollbackTarget(rec) ?? ownTarget(rec);
  return { environment: t.environment, state: t.rollout };
}
