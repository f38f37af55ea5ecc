// What people read from the runner outside a run's steps: why a deploy is refused for a lock or
// a stopped line, and the note a restart leaves in a thread.
import { labelName, slackDate } from '../domain/text.js';
import type { LineStop, LockRecord } from '../store/records.js';

/** What a thread says when a restarted Shipbot picks its run up; `wallAt` is when, by the wall clock. */
export function restartNote(wallAt: number, what: string, why = 'Shipbot restarted'): string {
  return `${why} ${slackDate(wallAt)}; ${what}`;
}

/** Why nothing moves forward while an incident commander has stopped all deploys. */
export function lineStoppedMessage(s: LineStop): string {
  return `🛑 All deploys are stopped by ${labelName(s.by)}: ${s.reason}. An incident commander lifts it with \`resume deploys\`.`;
}

/**
 * Why a deploy is refused for a lock, in two lines: who holds it and why, then how it ends.
 * `wall` turns the lock's moment (the runner's clock) into the wall clock people read.
 */
export function lockedMessage(l: LockRecord, wall: (moment: number) => number): string {
  const since = slackDate(wall(l.since));
  if (l.kind === 'run')
    return `🔒 ${l.service} in ${l.environment} is busy: ${labelName(l.holder)} is ${l.reason} (run ${l.runId}, since ${since}).\nIt frees itself when that run ends: start again then.`;
  // People read names; the lock and the audit trail keep the id.
  const why = l.kind === 'held' ? `locked after ${l.reason}` : `locked by ${labelName(l.holder)}: ${l.reason}`;
  return `🔒 ${l.service} in ${l.environment} is ${why}, since ${since}.\nOnce it is checked, an incident commander unlocks it: \`unlock ${l.service} ${l.environment}\`.`;
}
