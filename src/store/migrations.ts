// Numbered, additive schema migrations. `PRAGMA user_version` records the last one applied.
// Never edit a migration that has shipped: add a new one (e.g. the scheduler's tables).
import type { Database } from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'runs, steps, events (audit trail), locks',
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        service TEXT NOT NULL,
        environment TEXT NOT NULL,
        version TEXT NOT NULL,
        strategy TEXT NOT NULL,
        status TEXT NOT NULL,
        plan_json TEXT NOT NULL,
        request_json TEXT NOT NULL,
        requester_json TEXT NOT NULL,
        origin_json TEXT NOT NULL,
        rollout_state_json TEXT,
        -- everything else the runner learned (baseline, decisions, smoke results…), JSON
        data_json TEXT NOT NULL DEFAULT '{}',
        dedupe_key TEXT UNIQUE,
        stage TEXT,
        outcome TEXT,
        report_path TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX runs_status ON runs(status);
      CREATE INDEX runs_service_env ON runs(service, environment, created_at);

      CREATE TABLE steps (
        run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        key TEXT NOT NULL,
        title TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT,
        started_at INTEGER,
        ended_at INTEGER,
        PRIMARY KEY (run_id, key)
      );

      -- The audit trail: who did what, when. Append-only.
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT,
        at INTEGER NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX events_run ON events(run_id, id);

      -- One active run per service and environment. kind: run (held by an active run),
      -- manual (a person locked it), held (kept after an automatic rollback or a safe stop).
      CREATE TABLE locks (
        service TEXT NOT NULL,
        environment TEXT NOT NULL,
        holder TEXT NOT NULL,
        run_id TEXT,
        since INTEGER NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'run',
        PRIMARY KEY (service, environment)
      );
    `,
  },
  {
    version: 2,
    name: 'scheduled deploys and scheduler bookkeeping',
    sql: `
      -- A deploy asked for later. status: pending → starting (claimed by one tick) → started |
      -- refused | failed; or cancelled. Cron only wakes the scheduler; the truth is here.
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        run_at INTEGER NOT NULL,
        status TEXT NOT NULL,
        service TEXT NOT NULL,
        environment TEXT NOT NULL,
        version TEXT NOT NULL,
        request_json TEXT NOT NULL,
        plan_json TEXT NOT NULL,
        requester_json TEXT NOT NULL,
        -- where to report back (a Slack thread), JSON; null for the terminal
        notify_json TEXT,
        freeze_override_json TEXT,
        run_id TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX schedules_due ON schedules(status, run_at);

      -- "Done once" marks for periodic jobs: an old colour retired, a reminder posted, a digest sent.
      CREATE TABLE scheduler_marks (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        at INTEGER NOT NULL,
        PRIMARY KEY (kind, key)
      );
    `,
  },
  {
    version: 3,
    name: 'seen Slack events',
    sql: `
      -- Slack events already handled (channel + message ts), so a redelivery after a restart is
      -- not answered twice. Old rows are pruned as new ones arrive.
      CREATE TABLE seen_events (
        key TEXT PRIMARY KEY,
        at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'stop the line',
    sql: `
      -- An incident commander's "stop all deploys": at most one row while it holds.
      CREATE TABLE line_stop (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        by TEXT NOT NULL,
        reason TEXT NOT NULL,
        at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'leadership term',
    sql: `
      -- The highest leadership term that wrote run state (ops/leader.ts): a replica whose term
      -- has ended finds a higher one here and its late write is refused (fencing).
      CREATE TABLE leadership (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        term INTEGER NOT NULL
      );
      INSERT INTO leadership (id, term) VALUES (1, 0);
    `,
  },
  {
    version: 6,
    name: 'commands for the leader',
    sql: `
      -- A person's command taken by a replica that does not lead, for the leader to carry out.
      -- status: queued → taken (by the leader of term) → answered (answer_json).
      CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        cmd TEXT NOT NULL,
        actor_json TEXT NOT NULL,
        at INTEGER NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        term INTEGER NOT NULL DEFAULT 0,
        answer_json TEXT
      );
      CREATE INDEX commands_open ON commands(status, at);
    `,
  },
];

/** Applies every migration newer than the database's user_version, each in its own transaction. */
export function migrate(db: Database, migrations: Migration[] = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  const latest = migrations.reduce((m, x) => Math.max(m, x.version), 0);
  if (current > latest) {
    throw new Error(
      `the database schema is version ${current}, newer than this Shipbot knows (${latest}); upgrade Shipbot or point SHIPBOT_DATA_DIR at another directory`,
    );
  }
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}
