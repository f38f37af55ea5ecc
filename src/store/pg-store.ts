// The shared engine: Postgres through `pg`, for replicas that share state (SHIPBOT_DATABASE_URL).
// Each method is one statement or one transaction on one pooled connection; the leadership row
// is locked (FOR UPDATE) by every fenced write, so the term check and the write are one step
// whichever replica makes them.
import pg from 'pg';
import type { AuditRecord, LineStop, LockRecord, RunRecord } from './records.js';
import { PG_MIGRATIONS } from './pg-schema.js';
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

type Db = Pick<pg.PoolClient, 'query'>;

const RUN_COLUMNS = [
  'id',
  'service',
  'environment',
  'version',
  'strategy',
  'status',
  'plan_json',
  'request_json',
  'requester_json',
  'origin_json',
  'rollout_state_json',
  'data_json',
  'dedupe_key',
  'stage',
  'outcome',
  'report_path',
  'created_at',
  'updated_at',
] as const;
const UPDATED = ['status', 'plan_json', 'origin_json', 'rollout_state_json', 'data_json', 'stage', 'outcome', 'report_path', 'updated_at'];
const SAVE_RUN = `INSERT INTO runs (${RUN_COLUMNS.join(', ')}) VALUES (${RUN_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${UPDATED.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

// BIGINT (clock ms) as a number, as SQLite gives it; every moment Shipbot stores fits in 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === pg.types.builtins.INT8
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export class PgStore implements Store {
  readonly engine = 'postgres';
  private term?: () => number;
  readonly sql: SqlDoor = {
    all: async <T>(sql: string, args: unknown[]) => (await this.pool.query(numbered(sql), args)).rows as T[],
    run: async (sql, args) => (await this.pool.query(numbered(sql), args)).rowCount ?? 0,
  };

  private constructor(private readonly pool: pg.Pool) {}

  /** A pool on a database `open` has migrated (another connection of the same process, a restart in tests). */
  static connect(url: string): PgStore {
    const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000, query_timeout: 15_000, types });
    // An idle connection the server dropped is an error on the pool, not a crash of Shipbot.
    pool.on('error', () => undefined);
    return new PgStore(pool);
  }

  /** Connects, and migrates the schema under an advisory lock (two replicas starting at once migrate once). */
  static async open(url: string): Promise<PgStore> {
    const store = PgStore.connect(url);
    const { pool } = store;
    try {
      await store.tx(async (c) => {
        await c.query('SELECT pg_advisory_xact_lock(4242)');
        await c.query('CREATE TABLE IF NOT EXISTS shipbot_schema (version INTEGER NOT NULL)');
        const { rows } = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM shipbot_schema');
        const current = rows[0]?.v ?? 0;
        const latest = Math.max(...PG_MIGRATIONS.map((m) => m.version));
        if (current > latest)
          throw new Error(`the database schema is version ${current}, newer than this Shipbot knows (${latest}); upgrade Shipbot`);
        for (const m of PG_MIGRATIONS.filter((x) => x.version > current)) {
          await c.query(m.sql);
          await c.query('INSERT INTO shipbot_schema (version) VALUES ($1)', [m.version]);
        }
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw new Error(`cannot open the database at ${redactUrl(url)}: ${(err as Error).message}. Check SHIPBOT_DATABASE_URL.`, {
        cause: err,
      });
    }
    return store;
  }

  fenceWith(term: () => number): void {
    this.term = term;
  }

  async claimTerm(): Promise<void> {
    await this.fenced(async () => undefined);
  }

  async saveRun(run: RunRecord): Promise<void> {
    await this.fenced((c) => this.putRun(c, run));
  }

  async startRun(lock: LockRecord, write: StartWrite): Promise<{ got: LockAttempt; run?: RunRecord }> {
    return this.tx(async (c) => {
      const got = await this.takeLock(c, lock);
      const out = write(got);
      if (!out) return { got };
      await this.putRun(c, out.run);
      for (const a of out.audits) await this.addAudit(c, a);
      return { got, run: out.run };
    });
  }

  async endRun(run: RunRecord, kept: string | undefined, audit: NewAudit): Promise<void> {
    await this.fenced(async (c) => {
      const where = 'service = $1 AND environment = $2 AND run_id = $3';
      if (kept) await c.query(`UPDATE locks SET kind = 'held', reason = $4 WHERE ${where}`, [run.service, run.environment, run.id, kept]);
      else await c.query(`DELETE FROM locks WHERE ${where}`, [run.service, run.environment, run.id]);
      await this.putRun(c, run);
      await this.addAudit(c, audit);
    });
  }

  async getRun(id: string): Promise<RunRecord | undefined> {
    return (await this.runs('SELECT * FROM runs WHERE id = $1', [id]))[0];
  }

  async getRunByDedupeKey(key: string): Promise<RunRecord | undefined> {
    return (await this.runs('SELECT * FROM runs WHERE dedupe_key = $1', [key]))[0];
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status?.length) {
      args.push(filter.status);
      where.push(`status = ANY($${args.length})`);
    }
    if (filter.service) {
      args.push(filter.service);
      where.push(`service = $${args.length}`);
    }
    if (filter.environment) {
      args.push(filter.environment);
      where.push(`environment = $${args.length}`);
    }
    const sql = `SELECT * FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, seq DESC ${filter.limit ? `LIMIT ${Math.floor(filter.limit)}` : ''}`;
    return this.runs(sql, args);
  }

  async nextQueued(service: string, environment: string): Promise<RunRecord | undefined> {
    const sql = `SELECT * FROM runs WHERE service = $1 AND environment = $2 AND status = 'queued' ORDER BY created_at, seq LIMIT 1`;
    return (await this.runs(sql, [service, environment]))[0];
  }

  async latestMoment(): Promise<number | undefined> {
    const { rows } = await this.pool.query<{ m: number | null }>(
      'SELECT GREATEST((SELECT MAX(updated_at) FROM runs), (SELECT MAX(at) FROM events)) AS m',
    );
    return rows[0]?.m ?? undefined;
  }

  async firstSeen(key: string, now: number, ttlMs: number): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM seen_events WHERE at < $1', [now - ttlMs]);
      const r = await c.query('INSERT INTO seen_events (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, now]);
      return r.rowCount === 1;
    });
  }

  async audit(e: NewAudit, fenced = false): Promise<AuditRecord> {
    return fenced ? this.fenced((c) => this.addAudit(c, e)) : this.addAudit(this.pool, e);
  }

  async auditTrail(runId?: string): Promise<AuditRecord[]> {
    const { rows } =
      runId === undefined
        ? await this.pool.query<AuditRow>('SELECT * FROM events ORDER BY id')
        : await this.pool.query<AuditRow>('SELECT * FROM events WHERE run_id = $1 ORDER BY id', [runId]);
    return rows.map(fromAuditRow);
  }

  async lineStop(): Promise<LineStop | undefined> {
    const { rows } = await this.pool.query<LineStop>('SELECT "by" AS by, reason, at FROM line_stop WHERE id = 1');
    return rows[0];
  }

  async stopLine(stop: LineStop): Promise<boolean> {
    const r = await this.pool.query('INSERT INTO line_stop (id, "by", reason, at) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING', [
      stop.by,
      stop.reason,
      stop.at,
    ]);
    return r.rowCount === 1;
  }

  async resumeLine(): Promise<boolean> {
    return (await this.pool.query('DELETE FROM line_stop WHERE id = 1')).rowCount === 1;
  }

  async getLock(service: string, environment: string): Promise<LockRecord | undefined> {
    return lockIn(this.pool, service, environment);
  }

  async listLocks(): Promise<LockRecord[]> {
    return (await this.pool.query<LockRow>('SELECT * FROM locks ORDER BY since')).rows.map(fromLockRow);
  }

  async acquireLock(lock: LockRecord): Promise<LockAttempt> {
    return this.takeLock(this.pool, lock);
  }

  async releaseLock(lock: LockRecord): Promise<boolean> {
    const r = await this.pool.query(
      'DELETE FROM locks WHERE service = $1 AND environment = $2 AND holder = $3 AND kind = $4 AND since = $5',
      [lock.service, lock.environment, lock.holder, lock.kind, lock.since],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async queueCommand(c: QueuedCommand): Promise<void> {
    await this.pool.query(
      'INSERT INTO commands (id, run_id, cmd, actor_json, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO NOTHING',
      [c.id, c.runId, c.cmd, JSON.stringify(c.actor), c.at],
    );
  }

  async takeCommands(term: number): Promise<QueuedCommand[]> {
    const { rows } = await this.pool.query<CommandRow & { seq: number }>(
      `UPDATE commands SET status = 'taken', term = $1 WHERE status = 'queued' OR (status = 'taken' AND term < $1) RETURNING *`,
      [term],
    );
    return rows.sort((a, b) => a.seq - b.seq).map(fromCommandRow);
  }

  async answerCommand(id: string, answer: CommandResult): Promise<void> {
    await this.pool.query(`UPDATE commands SET status = 'answered', answer_json = $2 WHERE id = $1`, [id, JSON.stringify(answer)]);
  }

  async commandAnswer(id: string): Promise<CommandResult | undefined> {
    const { rows } = await this.pool.query<{ answer_json: string }>(
      `SELECT answer_json FROM commands WHERE id = $1 AND status = 'answered'`,
      [id],
    );
    return rows[0] ? JSON.parse(rows[0].answer_json) : undefined;
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // --- inside ---------------------------------------------------------------------------------

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query(begin);
      const out = await fn(c);
      await c.query('COMMIT');
      c.release();
      return out;
    } catch (err) {
      // A connection in an unknown state is dropped, not handed to the next caller.
      await c.query('ROLLBACK').catch(() => undefined);
      c.release(true);
      throw err;
    }
  }

  /** `fn` in one transaction, after the term check under the leadership row's lock. */
  private fenced<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.tx(async (c) => {
      if (this.term) {
        const mine = this.term();
        const { rows } = await c.query<{ term: number }>('SELECT term FROM leadership WHERE id = 1 FOR UPDATE');
        const highest = rows[0]?.term ?? 0;
        if (highest > mine) throw new FencedError(mine, highest);
        if (mine > highest) await c.query('UPDATE leadership SET term = $1 WHERE id = 1', [mine]);
      }
      return fn(c);
    });
  }

  private async putRun(c: Db, run: RunRecord): Promise<void> {
    const row = toRow(run);
    await c.query(
      SAVE_RUN,
      RUN_COLUMNS.map((k) => row[k]),
    );
    await c.query('DELETE FROM steps WHERE run_id = $1', [run.id]);
    for (const [i, s] of run.steps.entries()) {
      await c.query(
        'INSERT INTO steps (run_id, idx, key, title, status, detail, started_at, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
        [run.id, i, s.key, s.title, s.status, s.detail ?? null, s.startedAt ?? null, s.endedAt ?? null],
      );
    }
  }

  private async addAudit(c: Db, e: NewAudit): Promise<AuditRecord> {
    const { rows } = await c.query<{ id: number }>(
      'INSERT INTO events (run_id, at, actor, action, detail) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      [e.runId ?? null, e.at, e.actor, e.action, e.detail],
    );
    return { id: Number(rows[0]!.id), ...e };
  }

  private async takeLock(c: Db, lock: LockRecord): Promise<LockAttempt> {
    // Twice at most: a holder that let go between our insert and our read is gone, so try again.
    for (let attempt = 0; attempt < 2; attempt++) {
      const ins = await c.query(
        `INSERT INTO locks (service, environment, holder, run_id, since, reason, kind) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (service, environment) DO NOTHING`,
        [lock.service, lock.environment, lock.holder, lock.runId ?? null, lock.since, lock.reason, lock.kind],
      );
      if (ins.rowCount === 1) return { ok: true, lock };
      const existing = await lockIn(c, lock.service, lock.environment);
      if (existing) return sameLock(existing, lock) ? { ok: true, lock: existing } : { ok: false, holder: existing };
    }
    throw new Error(`the lock of ${lock.service} in ${lock.environment} changed hands twice while it was taken; try again`);
  }

  /** Runs and their steps as of one moment: a save between two plain reads would pair a run with another moment's steps. */
  private runs(sql: string, args: unknown[]): Promise<RunRecord[]> {
    return this.tx(async (c) => {
      const { rows } = await c.query<RunRow>(sql, args);
      if (!rows.length) return [];
      const steps = await c.query<StepRow>('SELECT * FROM steps WHERE run_id = ANY($1) ORDER BY run_id, idx', [rows.map((r) => r.id)]);
      const byRun = new Map<string, StepRow[]>();
      for (const s of steps.rows) byRun.set(s.run_id, [...(byRun.get(s.run_id) ?? []), s]);
      return rows.map((r) => fromRunRow(r, byRun.get(r.id) ?? []));
    }, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }
}

async function lockIn(c: Db, service: string, environment: string): Promise<LockRecord | undefined> {
  const { rows } = await c.query<LockRow>('SELECT * FROM locks WHERE service = $1 AND environment = $2', [service, environment]);
  return rows[0] ? fromLockRow(rows[0]) : undefined;
}

/** `?` placeholders as Postgres numbers them ($1, $2…); Shipbot's own statements have no `?` in a literal. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unreadable SHIPBOT_DATABASE_URL)';
  }
}
