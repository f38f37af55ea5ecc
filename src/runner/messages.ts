// What people read from the runner outside a run's steps: why a deploy is refused for a lock or
// a stopped line, and the note a restart leaves in a thread.
import { labelName } from '../domain/text.js';
import type { LineStop, LockRecord } from '../store/records.js';

/** What a thread says when a restarted Shipbot picks its run up. */
export function restartNote(at: number, what: string): { at: number; note: string } {
  return { at, note: `Shipbot restarted at ${new Date(at).toISOString().slice(11, 16)} UTC; ${what}` };
}

/** A moment as people read it in a refusal: `2026-12-07 01:22 UTC`. */
export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** Why nothing moves forward while an incident commander has stopped all deploys. */
export function lineStoppedMessage(s: LineStop): string {
  return `🛑 All deploys are stopped by ${labelName(s.by)}: ${s.reason}. An incident commander lifts it with \`resume deploys\`.`;
}

/** Why a deploy is refused for a lock, in two lines: who holds it and why, then how it ends. */
export function lockedMessage(l: LockRecord): string {
  const since = fmtTime(l.since);
  if (l.kind === 'run')
    return `🔒 ${l.service} in ${l.environment} is busy: ${labelName(l.holder)} is ${l.reason} (run ${l.runId}, since ${since}).\nIt frees itself when that run ends: start again then.`;
  // People read names; the lock and the audit trail keep the id.
  const why = l.kind === 'held' ? `locked after ${l.reason}` : `locked by ${labelName(l.holder)}: ${l.reason}`;
  return `🔒 ${l.service} in ${l.environment} is ${why}, since ${since}.\nOnce it is checked, an incident commander unlocks it: \`unlock ${l.service} ${l.environment}\`.`;
}
