// What every store engine honours: SQLite (store.ts, the embedded default) and Postgres
// (pg-store.ts, shared by replicas). Every method returns a promise, so a networked engine fits.
// Writes that belong together are one method (startRun, endRun), never a transaction the caller
// holds open across awaits: each engine makes that method one transaction of its own.
import type { Actor } from '../domain/types.js';
import type { CommandResult, RunCommand } from '../domain/run.js';
import type { AuditRecord, LineStop, LockRecord, RunRecord } from './records.js';

export interface RunFilter {
  status?: string[];
  service?: string;
  environment?: string;
  limit?: number;
}

export type LockAttempt = { ok: true; lock: LockRecord } | { ok: false; holder: LockRecord };

export type NewAudit = Omit<AuditRecord, 'id'>;

/** What `startRun` writes once it knows whether the lock was got: the run and its audit entries, or (only when it was not got) nothing. */
export type StartWrite = (got: LockAttempt) => { run: RunRecord; audits: NewAudit[] } | undefined;

/** A person's command for a run, taken by any replica and carried out by the one that leads. */
export interface QueuedCommand {
  id: string;
  runId: string;
  cmd: RunCommand;
  actor: Actor;
  at: number;
}

/** Plain statements on the store's database, `?` for each parameter, for tables beside the runs' (schedules.ts). */
export interface SqlDoor {
  all<T = unknown>(sql: string, args: unknown[]): Promise<T[]>;
  /** The number of rows the statement changed. */
  run(sql: string, args: unknown[]): Promise<number>;
}

export interface Store {
  readonly engine: 'sqlite' | 'postgres';
  readonly sql: SqlDoor;

  /**
   * Fences run-state writes with the leadership term this process holds (ops/leader.ts): from
   * then on a write under a term lower than the highest that ever wrote is refused
   * (FencedError), in the same transaction as the write, so a demoted leader's late write
   * changes nothing.
   */
  fenceWith(term: () => number): void;
  /** Records this process's term as the highest (fenced): from now on an earlier term's write is refused, even before this one writes a run. */
  claimTerm(): Promise<void>;

  /** Inserts or replaces a run and its steps, all or nothing (fenced). */
  saveRun(run: RunRecord): Promise<void>;
  /**
   * Takes the run's lock and saves what `write` returns with it, all or nothing. Not fenced: any
   * replica records a new run (the leader drives it); a run's progress is the leader's alone.
   */
  startRun(lock: LockRecord, write: StartWrite): Promise<{ got: LockAttempt; run?: RunRecord }>;
  /** Saves the ended run, releases its lock or keeps it held (`kept`: why), and audits the end, all or nothing (fenced). */
  endRun(run: RunRecord, kept: string | undefined, audit: NewAudit): Promise<void>;
  getRun(id: string): Promise<RunRecord | undefined>;
  getRunByDedupeKey(key: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  listRuns(filter?: RunFilter): Promise<RunRecord[]>;
  /** Oldest queued run for a service and environment, the next to get its lock. */
  nextQueued(service: string, environment: string): Promise<RunRecord | undefined>;
  /** The latest moment the database recorded (run update or audit event): a restarted clock starts after it. */
  latestMoment(): Promise<number | undefined>;
  /** True the first time `key` is offered within `ttlMs`, across restarts and replicas; false for a repeat. */
  firstSeen(key: string, now: number, ttlMs: number): Promise<boolean>;

  /** Appends to the audit trail; `fenced`: an entry about the leader's own work, refused once its term has ended. */
  audit(e: NewAudit, fenced?: boolean): Promise<AuditRecord>;
  auditTrail(runId?: string): Promise<AuditRecord[]>;

  /** The incident commander's stop of all deploys, while it holds. */
  lineStop(): Promise<LineStop | undefined>;
  /** Records the stop; false when one already holds (the first one stays). */
  stopLine(stop: LineStop): Promise<boolean>;
  /** Lifts the stop; false when none held. */
  resumeLine(): Promise<boolean>;

  getLock(service: string, environment: string): Promise<LockRecord | undefined>;
  listLocks(): Promise<LockRecord[]>;
  /** Takes the lock unless someone else holds it; taking a lock you already hold (same run) is a no-op. */
  acquireLock(lock: LockRecord): Promise<LockAttempt>;
  /** Releases this very lock (as read: holder, kind and since); false when it is gone or has changed hands. */
  releaseLock(lock: LockRecord): Promise<boolean>;

  /** Queues a command for the leader (a replica that does not lead took it); the same id is queued once. */
  queueCommand(c: QueuedCommand): Promise<void>;
  /**
   * Claims the commands still to carry out for the leader of `term`, oldest first: the queued
   * ones, and any an earlier term took and never answered (its leader died on them).
   */
  takeCommands(term: number): Promise<QueuedCommand[]>;
  /** What came of a command; the replica that queued it reads it back. */
  answerCommand(id: string, answer: CommandResult): Promise<void>;
  commandAnswer(id: string): Promise<CommandResult | undefined>;

  close(): Promise<void>;
}

/** A write of run state by a replica whose leadership term has ended. */
export class FencedError extends Error {
  constructor(
    readonly term: number,
    readonly current: number,
  ) {
    super(`leadership term ${term} has ended (term ${current} has written since): this replica no longer writes run state`);
    this.name = 'FencedError';
  }
}

/** Whether `existing` is the lock `wanted` asks for (the same run, or the same person's manual lock): taking it again is a no-op. */
export function sameLock(existing: LockRecord, wanted: LockRecord): boolean {
  return wanted.runId ? existing.runId === wanted.runId : existing.holder === wanted.holder && existing.kind === wanted.kind;
}
