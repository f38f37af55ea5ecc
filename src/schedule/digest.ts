// The daily digest for the stakeholder channel: what was deployed, what was rolled back, and
// how long rollbacks took. Pure: runs in, figures and text out; the scheduler posts it.
import type { RunRecord } from '../store/records.js';
import { FINAL_STATUSES, rollbackOf } from '../domain/run.js';

/** The fields of a run the digest reads (a RunRecord has them all). */
export type DigestRun = Pick<RunRecord, 'id' | 'service' | 'environment' | 'version' | 'phase' | 'createdAt'>;

export interface Digest {
  from: number;
  to: number;
  /** Runs started in the window. */
  deploys: number;
  succeeded: number;
  /** Runs in which a rollback began (automatic or by a person). */
  rollbacks: number;
  automaticRollbacks: number;
  failed: number;
  cancelled: number;
  /** Not yet ended when the digest was made. */
  inFlight: number;
  /**
   * Mean clock seconds from a run's start to the moment its rollback began, over the runs
   * that rolled back; undefined when none did.
   */
  meanTimeToRollbackSec?: number;
  /** Deploys per service, most first. */
  perService: Array<{ service: string; deploys: number; rollbacks: number }>;
}

/** Figures for runs started in [from, to). */
export function computeDigest(runs: readonly DigestRun[], from: number, to: number): Digest {
  const inWindow = runs.filter((r) => r.createdAt >= from && r.createdAt < to);
  const rolledBack = inWindow.filter((r) => rollbackOf(r));
  const times = rolledBack.map((r) => Math.max(0, rollbackOf(r)!.at - r.createdAt) / 1000);
  const per = new Map<string, { service: string; deploys: number; rollbacks: number }>();
  for (const r of inWindow) {
    const p = per.get(r.service) ?? { service: r.service, deploys: 0, rollbacks: 0 };
    p.deploys++;
    if (rollbackOf(r)) p.rollbacks++;
    per.set(r.service, p);
  }
  return {
    from,
    to,
    deploys: inWindow.length,
    succeeded: inWindow.filter((r) => r.phase.status === 'succeeded').length,
    rollbacks: rolledBack.length,
    automaticRollbacks: rolledBack.filter((r) => rollbackOf(r)!.automatic).length,
    failed: inWindow.filter((r) => r.phase.status === 'failed' || r.phase.status === 'stopped').length,
    cancelled: inWindow.filter((r) => r.phase.status === 'cancelled').length,
    inFlight: inWindow.filter((r) => !FINAL_STATUSES.has(r.phase.status)).length,
    ...(times.length ? { meanTimeToRollbackSec: times.reduce((a, b) => a + b, 0) / times.length } : {}),
    perService: [...per.values()].sort((a, b) => b.deploys - a.deploys || a.service.localeCompare(b.service)),
  };
}

function duration(sec: number): string {
  if (sec < 90) return `${Math.round(sec)} s`;
  if (sec < 90 * 60) return `${Math.round(sec / 60)} min`;
  return `${(sec / 3600).toFixed(1)} h`;
}

function day(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

/** The digest as one Slack message (mrkdwn). */
export function formatDigest(d: Digest): string {
  const head = `*Shipbot daily digest* (${day(d.from)} – ${day(d.to)} UTC)`;
  if (!d.deploys) return `${head}\nNo deploys.`;
  const lines = [
    head,
    `• ${d.deploys} deploy${d.deploys === 1 ? '' : 's'}: ${d.succeeded} succeeded, ${d.rollbacks} rolled back (${d.automaticRollbacks} automatically), ${d.failed} failed or stopped, ${d.cancelled} cancelled${d.inFlight ? `, ${d.inFlight} still in flight` : ''}`,
    `• Mean time to rollback: ${d.meanTimeToRollbackSec === undefined ? 'n/a (no rollbacks)' : duration(d.meanTimeToRollbackSec)} from the start of the run`,
    `• By service: ${d.perService.map((p) => `${p.service} ${p.deploys}${p.rollbacks ? ` (${p.rollbacks} rolled back)` : ''}`).join(', ')}`,
  ];
  return lines.join('\n');
}

/** The digest window ending at today's `hourUtc` (the last one to have ended at `now`), and its day key. */
export function digestWindow(now: number, hourUtc: number): { from: number; to: number; key: string } {
  const d = new Date(now);
  let to = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hourUtc);
  if (to > now) to -= 86_400_000;
  return { from: to - 86_400_000, to, key: new Date(to).toISOString().slice(0, 10) };
}
