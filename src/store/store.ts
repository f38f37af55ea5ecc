// better-sqlite3 in WAL mode. Every write that belongs together happens in one transaction, so a
// crash between two writes leaves the database as it was before the first one.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { migrate } from './migrations.js';
import type { AuditRecord, LineStop, LockRecord, RunRecord } from './records.js';
import {
  type AuditRow,
  type CommandRow,
  fromAuditRow,
  fromCommandRow,
  fromLockRow,
  fromRunRow,
  type LockRow,
  type RunRow,
  type StepRow,
  toRow,
} from './rows.js';
import type { CommandResult } from '../domain/run.js';
import {
  FencedError,
  type LockAttempt,
  type NewAudit,
  type QueuedCommand,
  type RunFilter,
  sameLock,
  type SqlDoor,
  type StartWrite,
  type Store,
} from './run-store.js';

/**
 * The embedded engine. Its work is synchronous (better-sqlite3); the promises only meet the
 * interface, so nothing interleaves inside one of its methods.
 */
export class SqliteStore implements Store {
  readonly engine = 'sqlite';
  readonly db: Database.Database;
  readonly sql: SqlDoor = {
    all: async <T>(sql: string, args: unknown[]) => this.db.prepare(sql).all(...args) as T[],
    run: async (sql, args) => this.db.prepare(sql).run(...args).changes,
  };

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

  async claimTerm(): Promise<void> {
    this.fenced(() => undefined);
  }

  async saveRun(run: RunRecord): Promise<void> {
    this.fenced(() => this.putRun(run));
  }

  async startRun(lock: LockRecord, write: StartWrite): Promise<{ got: LockAttempt; run?: RunRecord }> {
    return this.immediate(() => {
      const got = this.takeLock(lock);
      const out = write(got);
      if (!out) return { got };
      this.putRun(out.run);
      for (const a of out.audits) this.addAudit(a);
      return { got, run: out.run };
    });
  }

  async endRun(run: RunRecord, kept: string | undefined, audit: NewAudit): Promise<void> {
    this.fenced(() => {
      const { service, environment } = run;
      if (this.lockOf(service, environment)?.runId === run.id) {
        if (kept)
          this.db
            .prepare(`UPDATE locks SET kind = 'held', reason = ? WHERE service = ? AND environment = ?`)
            .run(kept, service, environment);
        else this.db.prepare('DELETE FROM locks WHERE service = ? AND environment = ?').run(service, environment);
      }
      this.putRun(run);
      this.addAudit(audit);
    });
  }

  /**
   * `fn` in one IMMEDIATE transaction after the term check: the term is read and the write made
   * under one write lock, also against another process on the same file (a deferred read would
   * race it).
   */
  private fenced<T>(fn: () => T): T {
    return this.immediate(() => {
      this.checkTerm();
      return fn();
    });
  }

  private immediate<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  private putRun(run: RunRecord): void {
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
    run.steps.forEach((s, i) => insert.run(run.id, i, s.key, s.title, s.status, s.detail ?? null, s.startedAt ?? null, s.endedAt ?? null));
  }

  /** Rows older than the TTL are pruned on the way. */
  async firstSeen(key: string, now: number, ttlMs: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM seen_events WHERE at < ?').run(now - ttlMs);
      return this.db.prepare('INSERT OR IGNORE INTO seen_events (key, at) VALUES (?, ?)').run(key, now).changes === 1;
    })();
  }

  async latestMoment(): Promise<number | undefined> {
    const row = this.db
      .prepare('SELECT MAX(m) AS m FROM (SELECT MAX(updated_at) AS m FROM runs UNION ALL SELECT MAX(at) FROM events)')
      .get() as { m: number | null };
    return row.m ?? undefined;
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  async getRunByDedupeKey(key: string): Promise<RunRecord | undefined> {
    const row = this.db.prepare('SELECT * FROM runs WHERE dedupe_key = ?').get(key) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
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

  async nextQueued(service: string, environment: string): Promise<RunRecord | undefined> {
    const row = this.db
      .prepare(`SELECT * FROM runs WHERE service = ? AND environment = ? AND status = 'queued' ORDER BY created_at, rowid LIMIT 1`)
      .get(service, environment) as RunRow | undefined;
    return row ? this.hydrate(row) : undefined;
  }

  private hydrate(row: RunRow): RunRecord {
    return fromRunRow(row, this.db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY idx').all(row.id) as StepRow[]);
  }

  // --- audit trail ----------------------------------------------------------------------------

  async audit(e: NewAudit, fenced = false): Promise<AuditRecord> {
    return fenced ? this.fenced(() => this.addAudit(e)) : this.addAudit(e);
  }

  private addAudit(e: NewAudit): AuditRecord {
    const info = this.db
      .prepare('INSERT INTO events (run_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)')
      .run(e.runId ?? null, e.at, e.actor, e.action, e.detail);
    return { id: Number(info.lastInsertRowid), ...e };
  }

  async auditTrail(runId?: string): Promise<AuditRecord[]> {
    const rows = (
      runId === undefined
        ? this.db.prepare('SELECT * FROM events ORDER BY id').all()
        : this.db.prepare('SELECT * FROM events WHERE run_id = ? ORDER BY id').all(runId)
    ) as AuditRow[];
    return rows.map(fromAuditRow);
  }

  // --- locks ----------------------------------------------------------------------------------

  async lineStop(): Promise<LineStop | undefined> {
    return (this.db.prepare('SELECT by, reason, at FROM line_stop WHERE id = 1').get() as LineStop | undefined) ?? undefined;
  }

  async stopLine(stop: LineStop): Promise<boolean> {
    return (
      this.db.prepare('INSERT OR IGNORE INTO line_stop (id, by, reason, at) VALUES (1, ?, ?, ?)').run(stop.by, stop.reason, stop.at)
        .changes === 1
    );
  }

  async resumeLine(): Promise<boolean> {
    return this.db.prepare('DELETE FROM line_stop WHERE id = 1').run().changes === 1;
  }

  async getLock(service: string, environment: string): Promise<LockRecord | undefined> {
    return this.lockOf(service, environment);
  }

  private lockOf(service: string, environment: string): LockRecord | undefined {
    const row = this.db.prepare('SELECT * FROM locks WHERE service = ? AND environment = ?').get(service, environment) as
      | LockRow
      | undefined;
    return row ? fromLockRow(row) : undefined;
  }

  async listLocks(): Promise<LockRecord[]> {
    return (this.db.prepare('SELECT * FROM locks ORDER BY since').all() as LockRow[]).map(fromLockRow);
  }

  async acquireLock(lock: LockRecord): Promise<LockAttempt> {
    return this.tx(() => this.takeLock(lock));
  }

  private takeLock(lock: LockRecord): LockAttempt {
    const existing = this.lockOf(lock.service, lock.environment);
    if (existing) return sameLock(existing, lock) ? { ok: true, lock: existing } : { ok: false, holder: existing };
    this.db
      .prepare('INSERT INTO locks (service, environment, holder, run_id, since, reason, kind) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(lock.service, lock.environment, lock.holder, lock.runId ?? null, lock.since, lock.reason, lock.kind);
    return { ok: true, lock };
  }

  async releaseLock(lock: LockRecord): Promise<boolean> {
    const info = this.db
      .prepare('DELETE FROM locks WHERE service = ? AND environment = ? AND holder = ? AND kind = ? AND since = ?')
      .run(lock.service, lock.environment, lock.holder, lock.kind, lock.since);
    return info.changes > 0;
  }

  async queueCommand(c: QueuedCommand): Promise<void> {
    this.db
      .prepare('INSERT OR IGNORE INTO commands (id, run_id, cmd, actor_json, at) VALUES (?, ?, ?, ?, ?)')
      .run(c.id, c.runId, c.cmd, JSON.stringify(c.actor), c.at);
  }

  async takeCommands(term: number): Promise<QueuedCommand[]> {
    const rows = this.db
      .prepare(
        `UPDATE commands SET status = 'taken', term = ? WHERE status = 'queued' OR (status = 'taken' AND term < ?) RETURNING *, rowid AS seq`,
      )
      .all(term, term) as Array<CommandRow & { seq: number }>;
    return rows.sort((a, b) => a.seq - b.seq).map(fromCommandRow);
  }

  async answerCommand(id: string, answer: CommandResult): Promise<void> {
    this.db.prepare(`UPDATE commands SET status = 'answered', answer_json = ? WHERE id = ?`).run(JSON.stringify(answer), id);
  }

  async commandAnswer(id: string): Promise<CommandResult | undefined> {
    const row = this.db.prepare(`SELECT answer_json FROM commands WHERE id = ? AND status = 'answered'`).get(id) as
      | { answer_json: string }
      | undefined;
    return row ? JSON.parse(row.answer_json) : undefined;
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  /** For exit paths that cannot wait. */
  closeNow(): void {
    if (this.db.open) this.db.close();
  }
}

/** The database is busy or away for now (after the store's busy timeout): worth waiting out. */
export function isStoreBusy(err: unknown): boolean {
  const code = (err as { code?: string } | undefined)?.code;
  return code !== undefined && BUSY.has(code);
}

/**
 * Codes of a database that is held or away for a while, not of a bad write: SQLite's lock held
 * by another connection; Postgres's serialization failures, lock waits, a server shutting down
 * or restarting, and a connection refused or cut. The run is held and the write retried.
 */
const BUSY = new Set([
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
  'SQLITE_BUSY_SNAPSHOT',
  '40001',
  '40P01',
  '55P03',
  '57P01',
  '57P03',
  '08000',
  '08003',
  '08006',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
]);

/**
 * Opens (and migrates) the database at `file`. A file that cannot be opened is an error that says
 * what happened and what to do: a read-only directory, a full disk, a file that is not a database.
 */
export function openStore(file: string): SqliteStore {
  try {
    return new SqliteStore(file);
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
