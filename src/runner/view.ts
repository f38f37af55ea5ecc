// Small pieces the runner's parts share: the view front ends see of a record, where a service
// lives, and the few helpers of the loop (abort races, listener guards, store-busy errors).
import type { ServiceConfig } from '../config.js';
import type { WorkloadRef } from '../cluster/types.js';
import type { RunView } from '../domain/run.js';
import type { Environment } from '../domain/types.js';
import type { LineStop, LockRecord, RunRecord } from '../store/records.js';
import { labelName } from '../domain/text.js';

export function defaultRef(service: ServiceConfig, environment: Environment): WorkloadRef | undefined {
  const env = service.environments[environment];
  if (!env) return undefined;
  const migration = env.migration ?? service.migration;
  return { ...env, serviceName: service.name, imageRepo: env.image ?? service.image, ...(migration ? { migration } : {}) };
}

export function toView(rec: RunRecord): RunView {
  const { request: _r, targets: _t, data: _d, dedupeKey: _k, ...view } = rec;
  return structuredClone(view);
}

/** What a thread says when a restarted Shipbot picks its run up. */
export function restartNote(at: number, what: string): { at: number; note: string } {
  return { at, note: `Shipbot restarted at ${new Date(at).toISOString().slice(11, 16)} UTC; ${what}` };
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

/** SQLite said another connection holds the lock (after the store's busy timeout). */
export function isStoreBusy(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

export function safe(fn: () => void): void {
  try {
    fn();
  } catch {
    // A front end's listener failing must never stop a deployment.
  }
}

/** Why nothing moves forward while an incident commander has stopped all deploys. */
export function lineStoppedMessage(s: LineStop): string {
  return `🛑 All deploys are stopped by ${labelName(s.by)}: ${s.reason}. An incident commander lifts it with \`resume deploys\`.`;
}

/** Why a deploy is refused for a lock, in two lines: who holds it and why, then how it ends. */
export function lockedMessage(l: LockRecord): string {
  const since = fmtTime(l.since);
  if (l.kind === 'run')
    return `🔒 ${l.service} in ${l.environment} is busy: ${l.holder} is ${l.reason} (run ${l.runId}, since ${since}).\nIt frees itself when that run ends: start again then.`;
  const why = l.kind === 'held' ? `locked after ${l.reason}` : `locked by ${l.holder}: ${l.reason}`;
  return `🔒 ${l.service} in ${l.environment} is ${why}, since ${since}.\nOnce it is checked, an incident commander unlocks it: \`unlock ${l.service} ${l.environment}\`.`;
}

/** Rejects as soon as `signal` aborts, even if `p` is still waiting on something slow. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    p.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
