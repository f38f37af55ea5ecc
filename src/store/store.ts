// better-sqlite3 in WAL mode. Every write that belongs together happens in one transaction, so a
// crash between two writes leaves the database as it was before the first one.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type StepView, outcomeOf, reportPathOf } from '../domain/run.js';
import { type StoredData, upgradeRow } from './upgrade.js';
import { migrate } from './migrations.js';
import type { RolloutState } from '../cluster/types.js';
import { type AuditRecord, type LineStop, type LockRecord, ownTarget, type RunRecord } from './records.js';

export interface RunFilter {
  status?: string[];
  service?: string;
  environment?: string;
  limit?: number;
}

export type LockAttempt = { ok: true; lock: LockRecord } | { ok: false; holder: LockRecord };

interface RunRow {
  id: string;
  service: string;
  environment: string;
  version: string;
  strategy: string;
  status: string;
  plan_json: string;
  request_json: string;
  requester_json: string;
  origin_json: string;
  rollout_state_json: string | null;
  data_json: string;
  dedupe_key: string | null;
  stage: string | null;
  outcome: string | null;
  report_path: string | null;
  created_at: number;
  updated_at: number;
}

interface StepRow {
  run_id: string;
  idx: number;
  key: string;
  title: string;
  status: string;
  detail: string | null;
  started_at: number | null;
  ended_at: number | null;
}

interface LockRow {
  service: string;
  environment: string;
  holder: string;
  run_id: string | null;
  since: number;
  reason: string;
  kind: string;
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

export class Store {
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    // Short: a write blocks the event loop while it waits. The runner retries a busy write with
    // backoff (runner.ts waitForStore), so a longer lock does not freeze Slack acks or probes.
    this.db.pragma('busy_timeout = 1000');
    migrate(this.db);
  }

  get schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /** Runs `fn` in one transaction (nested calls join the outer one). */
  tx<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // --- runs -----------------------------------------------------------------------------------

  private term?: () => number;

  /**
   * Fences run-state writes with the leadership term this process holds (ops/leader.ts): from
   * now on a save under a term lower than the highest that ever saved is refused (FencedError),
   * in the same transaction as the write, so a demoted leader's late write changes nothing.
   */
  fenceWith(term: () => number): void {
    this.term = term;
  }

  /** Inside a write's transaction: refuses it when a later term has written; records ours. */
  private checkTerm(): void {
    if (!this.term) return;
    const mine = this.term();
    const { term: highest } = this.db.prepare('SELECT term FROM leadership WHERE id = 1').get() as { term: number };
    if (highest > mine) throw new FencedError(mine, highest);
    if (mine > highest) this.db.prepare('UPDATE leadership SET term = ? WHERE id = 1').run(mine);
  }

  /** Inserts or replaces a run and its steps in one transaction (fenced: see fenceWith). */
  saveRun(run: RunRecord): void {
    // IMMEDIATE: the term is read and the run written under one write lock, also against another
    // process on the same file (a deferred read would race it).
    this.db
      .transaction(() => {
        this.checkTerm();
        this.db
          .prepare(
            `INSERT INTO runs (id, service, environment, version, strategy, status, plan_json, request_json, requester_json,
             origin_json, rollout_state_json, data_json, dedupe_key, stage, outcome, report_path, created_at, updated_at)
           VALUES (@id, @service, @environment, @version, @strategy, @status, @plan_json, @request_json, @requester_json,
             @origin_json, @rollout_state_json, @data_json, @dedupe_key, @stage, @outcome, @report_path, @created_at, @updated_at)
           ON CONFLICT(id) DO UPDATE SET status = excluded.status, plan_json = excluded.plan_json,
             origin_json = excluded.origin_json, rollout_state_json = excluded.rollout_state_json,
             data_json = excluded.data_json, stage = excluded.stage, outcome = excluded.outcome,
             report_path = excluded.report_path, updated_at = excluded.updated_at`,
          )
          .run(toRow(run));
        this.db.prepare('DELETE FROM steps WHERE run_id = ?').run(run.id);
        const insert = this.db.prepare(
          `INSERT INTO steps (run_id, idx, key, title, status, detail, started_at, ended_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        );
        run.steps.forEach((s, i) =>
          insert.run(run.id, i, s.key, s.title, s.status, s.detail ?? null, s.startedAt ?? null, s.endedAt ?? null),
        );
      })
      .immediate();
  }

  /**
   * True the first time `key` (a Slack event's channel + ts) is offered within `ttlMs`, across
   * restarts; false for a repeat. Rows older than the TTL are pruned on the way.
   */
  firstSeen(key: string, now: number, ttlMs: number): boolean {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM seen_events WHERE at < ?').run(now - ttlMs);
      return this.db.prepare('INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)').run(key, now).changes === 1;
    })();
  }

  /** The latest moment the database recorded (run update or audit event): a restarted clock starts after it. */
  latestMoment(): number | undefined {
    const row = this.db
      .prepare('SELECT MAX(m) AS m FROM (SELECT MAX(updated_at) AS m FROM runs UNION ALL SELECT MAX(at) FROM events)')
      .get() as { m: number | null };
    return row.m ?? undefined;
  }

  getRun(id: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  getRunByDedupeKey(key: string): RunRecord | undefined {
    const row = this.db.prepare('SELECT * FROM runs WHERE dedupe_key = ?').get(key) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  /** Newest first. */
  listRuns(filter: RunFilter = {}): RunRecord[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status?.length) {
      where.push(`status IN (${filter.status.map(() => '?').join(', ')})`);
      args.push(...filter.status);
    }
    if (filter.service) {
      where.push('service = ?');
      args.push(filter.service);
    }
    if (filter.environment) {
      where.push('environment = ?');
      args.push(filter.environment);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, rowid DESC ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''}`;
    return (this.db.prepare(sql).all(...args) as RunRow[]).map((r) => this.hydrate(r));
  }

  /** Oldest queued run for a service and environment, the next to get its lock. */
  nextQueued(service: string, environment: string): RunRecord | undefined {
    const row = this.db
      .prepare(`SELECT * FROM runs WHERE service = ? AND environment = ? AND status = 'queued' ORDER BY created_at, rowid LIMIT 1`)
      .get(service, environment) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  private hydrate(row: RunRow): RunRecord {
    const steps = (this.db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY idx').all(row.id) as StepRow[]).map(
      (s): StepView => ({
        key: s.key,
        title: s.title,
        status: s.status as StepView['status'],
        ...(s.detail !== null ? { detail: s.detail } : {}),
        ...(s.started_at !== null ? { startedAt: s.started_at } : {}),
        ...(s.ended_at !== null ? { endedAt: s.ended_at } : {}),
      }),
    );
    const rollout = row.rollout_state_json ? (JSON.parse(row.rollout_state_json) as RolloutState) : undefined;
    const stored = upgradeRow(JSON.parse(row.data_json) as StoredData, row, rollout, steps);
    return {
      id: row.id,
      service: row.service,
      environment: row.environment as RunRecord['environment'],
      version: row.version,
      strategy: row.strategy as RunRecord['strategy'],
      plan: JSON.parse(row.plan_json),
      request: JSON.parse(row.request_json),
      requester: JSON.parse(row.requester_json),
      origin: JSON.parse(row.origin_json),
      steps,
      ...stored,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      ...(row.dedupe_key !== null ? { dedupeKey: row.dedupe_key } : {}),
      ...(row.stage !== null ? { stage: row.stage } : {}),
    };
  }

  // --- audit trail ----------------------------------------------------------------------------

  audit(e: Omit<AuditRecord, 'id'>): AuditRecord {
    const info = this.db
      .prepare('INSERT INTO events (run_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)')
      .run(e.runId ?? null, e.at, e.actor, e.action, e.detail);
    return { id: Number(info.lastInsertRowid), ...e };
  }

  auditTrail(runId?: string): AuditRecord[] {
    const rows = (
      runId === undefined
        ? this.db.prepare('SELECT * FROM events ORDER BY id').all()
        : this.db.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(runId)
    ) as Array<{ id: number; run_id: string | null; at: number; actor: string; action: string; detail: string }>;
    return rows.map((r) => ({
      id: r.id,
      at: r.at,
      actor: r.actor,
      action: r.action,
      detail: r.detail,
      ...(r.run_id !== null ? { runId: r.run_id } : {}),
    }));
  }

  // --- locks ----------------------------------------------------------------------------------

  /** The incident commander's stop of all deploys, while it holds. */
  lineStop(): LineStop | undefined {
    return (this.db.prepare('SELECT by, reason, at FROM line_stop WHERE id = 1').get() as LineStop | undefined) ?? undefined;
  }

  /** Records the stop; false when one already holds (the first one stays). */
  stopLine(stop: LineStop): boolean {
    return (
      this.db.prepare('INSERT OR IGNORE INTO line_stop (id, by, reason, at) VALUES (1, ?, ?, ?)').run(stop.by, stop.reason, stop.at)
        .changes === 1
    );
  }

  /** Lifts the stop; false when none held. */
  resumeLine(): boolean {
    return this.db.prepare('DELETE FROM line_stop WHERE id = 1').run().changes === 1;
  }

  getLock(service: string, environment: string): LockRecord | undefined {
    const row = this.db.prepare('SELECT * FROM locks WHERE service = ? AND environment = ?').get(service, environment) as
      | LockRow
      | undefined;
    return row ? fromLockRow(row) : undefined;
  }

  listLocks(): LockRecord[] {
    return (this.db.prepare('SELECT * FROM locks ORDER BY since').all() as LockRow[]).map(fromLockRow);
  }

  /** Takes the lock unless someone else holds it; taking a lock you already hold (same run) is a no-op. */
  acquireLock(lock: LockRecord): LockAttempt {
    return this.tx(() => {
      const existing = this.getLock(lock.service, lock.environment);
      if (existing) {
        const same = lock.runId ? existing.runId === lock.runId : existing.holder === lock.holder && existing.kind === lock.kind;
        return same ? { ok: true, lock: existing } : { ok: false, holder: existing };
      }
      this.db
        .prepare('INSERT INTO locks (service, environment, holder, run_id, since, reason, kind) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(lock.service, lock.environment, lock.holder, lock.runId ?? null, lock.since, lock.reason, lock.kind);
      return { ok: true, lock };
    });
  }

  /** Changes how an existing lock is held (e.g. a run's lock kept after an automatic rollback). */
  updateLock(service: string, environment: string, patch: Partial<Pick<LockRecord, 'holder' | 'reason' | 'kind'>>): void {
    const cur = this.getLock(service, environment);
    if (!cur) return;
    const next = { ...cur, ...patch };
    this.db
      .prepare('UPDATE locks SET holder = ?, reason = ?, kind = ? WHERE service = ? AND environment = ?')
      .run(next.holder, next.reason, next.kind, service, environment);
  }

  /** Releases the lock; with `runId`, only when that run holds it as an active run. */
  releaseLock(service: string, environment: string, runId?: string): boolean {
    const info =
      runId === undefined
        ? this.db.prepare('DELETE FROM locks WHERE service = ? AND environment = ?').run(service, environment)
        : this.db
            .prepare(`DELETE FROM locks WHERE service = ? AND environment = ? AND run_id = ? AND kind = 'run'`)
            .run(service, environment, runId);
    return info.changes > 0;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** SQLite said another connection holds the lock (after the store's busy timeout). */
export function isStoreBusy(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED' || code === 'SQLITE_BUSY_SNAPSHOT';
}

/**
 * Opens (and migrates) the database at `file`. A file that cannot be opened is an error that says
 * what happened and what to do: a read-only directory, a full disk, a file that is not a database.
 */
export function openStore(file: string): Store {
  try {
    return new Store(file);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const why =
      e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES' || e.code === 'SQLITE_READONLY'
        ? 'the directory is not writable or does not exist'
        : e.code === 'SQLITE_FULL'
          ? 'the disk is full'
          : e.code === 'SQLITE_NOTADB' || e.code === 'SQLITE_CORRUPT'
            ? 'the file is not a Shipbot database (or it is corrupt)'
            : (e.message ?? String(err));
    throw new Error(
      `cannot open the database ${file}: ${why} (${e.code ?? 'error'}). Set SHIPBOT_DATA_DIR to a writable directory, or move the file aside.`,
      { cause: err },
    );
  }
}

function toRow(run: RunRecord): RunRow {
  // The run's own rollout has a column of its own (older readers and queries use it).
  const { rollout, ...own } = ownTarget(run);
  const targets = [...run.targets.slice(0, -1), own];
  const data: StoredData = { ...run.data, targets, phase: run.phase, restarts: run.restarts };
  return {
    id: run.id,
    service: run.service,
    environment: run.environment,
    version: run.version,
    strategy: run.strategy,
    status: run.phase.status,
    plan_json: JSON.stringify(run.plan),
    request_json: JSON.stringify(run.request),
    requester_json: JSON.stringify(run.requester),
    origin_json: JSON.stringify(run.origin),
    rollout_state_json: rollout ? JSON.stringify(rollout) : null,
    data_json: JSON.stringify(data),
    dedupe_key: run.dedupeKey ?? null,
    stage: run.stage ?? null,
    outcome: outcomeOf(run) ?? null,
    report_path: reportPathOf(run) ?? null,
    created_at: run.createdAt,
    updated_at: run.updatedAt,
  };
}

function fromLockRow(r: LockRow): LockRecord {
  return {
    service: r.service,
    environment: r.environment,
    holder: r.holder,
    since: r.since,
    reason: r.reason,
    kind: r.kind as LockRecord['kind'],
    ...(r.run_id !== null ? { runId: r.run_id } : {}),
  };
}
