// Pure decisions of the scheduler's periodic jobs: which old blue-green colours may be retired,
// and what to do about a run that waits for a person. No I/O here.
import { ownTarget, type RunRecord } from '../store/records.js';
import type { RunStatus } from '../domain/run.js';

/** Statuses in which a run waits for a person: these get a reminder, then a safe stop. */
export const WAITING_FOR_A_PERSON: readonly RunStatus[] = ['awaiting-decision', 'pending-approval', 'paused'];

export type RetireRun = Pick<RunRecord, 'id' | 'service' | 'environment' | 'strategy' | 'phase' | 'createdAt' | 'targets'>;

export type RetireDecision = { runId: string; action: 'retire' | 'superseded' | 'wait'; why: string };

/**
 * For succeeded blue-green runs whose `retireAt` has passed: retire the idle colour of the newest
 * one per service and environment, unless a lock says someone is deploying or checking it now;
 * older ones are superseded (the newest run's retirement covers them).
 */
export function retirements(
  runs: readonly RetireRun[],
  now: number,
  locked: (service: string, environment: string) => boolean,
): RetireDecision[] {
  const out: RetireDecision[] = [];
  const newest = new Map<string, RetireRun>();
  for (const r of runs) {
    if (r.strategy !== 'blue-green' || r.phase.status !== 'succeeded') continue;
    const key = `${r.service}/${r.environment}`;
    const cur = newest.get(key);
    if (!cur || r.createdAt > cur.createdAt) newest.set(key, r);
  }
  for (const r of runs) {
    if (r.strategy !== 'blue-green' || r.phase.status !== 'succeeded') continue;
    const rollout = ownTarget(r).rollout;
    const retireAt = rollout?.strategy === 'blue-green' ? rollout.retireAt : undefined;
    if (typeof retireAt !== 'number' || retireAt > now) continue;
    if (newest.get(`${r.service}/${r.environment}`) !== r) {
      out.push({ runId: r.id, action: 'superseded', why: 'a newer blue-green deploy of the service owns the idle colour now' });
    } else if (locked(r.service, r.environment)) {
      out.push({ runId: r.id, action: 'wait', why: `${r.service} in ${r.environment} is locked; retiring waits until it is free` });
    } else {
      out.push({ runId: r.id, action: 'retire', why: 'the retirement delay has passed' });
    }
  }
  return out;
}

export interface ReapOptions {
  /** Minutes of waiting before a reminder in the thread. */
  remindAfterMin: number;
  /** Minutes of waiting before the run is stopped safely (cancelled, or rolled back if the cluster changed). */
  stopAfterMin: number;
}

export type ReapDecision = { action: 'none' } | { action: 'remind'; waitedMin: number } | { action: 'stop'; waitedMin: number };

/** What to do with a run that may be waiting for a person; `since` is when it began waiting. */
export function reapDecision(run: Pick<RunRecord, 'phase'>, since: number, now: number, o: ReapOptions): ReapDecision {
  if (!WAITING_FOR_A_PERSON.includes(run.phase.status)) return { action: 'none' };
  const waitedMin = Math.floor((now - since) / 60_000);
  if (waitedMin >= o.stopAfterMin) return { action: 'stop', waitedMin };
  if (waitedMin >= o.remindAfterMin) return { action: 'remind', waitedMin };
  return { action: 'none' };
}

export function waitingFor(status: RunStatus): string {
  return status === 'pending-approval' ? 'an approval' : status === 'paused' ? 'someone to resume it' : 'a decision (Rollback / Accept)';
}
