// The Postgres schema: the same tables and columns as SQLite's migrations (migrations.ts) reach,
// in Postgres's dialect. Numbered like them; `shipbot_schema` records the last one applied. Never
// edit a migration that has shipped: add a new one.
import type { Migration } from './migrations.js';

export const PG_MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'runs, steps, events, locks, line stop, leadership term, seen Slack events',
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
        data_json TEXT NOT NULL DEFAULT '{}',
        dedupe_key TEXT UNIQUE,
        stage TEXT,
        outcome TEXT,
        report_path TEXT,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        -- insertion order, SQLite's rowid: the tie-break between runs created in the same ms
        seq BIGSERIAL NOT NULL
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
        started_at BIGINT,
        ended_at BIGINT,
        PRIMARY KEY (run_id, key)
      );

      CREATE TABLE events (
        id BIGSERIAL PRIMARY KEY,
        run_id TEXT,
        at BIGINT NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX events_run ON events(run_id, id);

      CREATE TABLE locks (
        service TEXT NOT NULL,
        environment TEXT NOT NULL,
        holder TEXT NOT NULL,
        run_id TEXT,
        since BIGINT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        kind TEXT NOT NULL DEFAULT 'run',
        PRIMARY KEY (service, environment)
      );

      CREATE TABLE line_stop (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        "by" TEXT NOT NULL,
        reason TEXT NOT NULL,
        at BIGINT NOT NULL
      );

      CREATE TABLE leadership (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        term BIGINT NOT NULL
      );
      INSERT INTO leadership (id, term) VALUES (1, 0);

      CREATE TABLE seen_events (
        key TEXT PRIMARY KEY,
        at BIGINT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'commands for the leader',
    sql: `
      CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        run_id TEXT NOT NULL,
        cmd TEXT NOT NULL,
        actor_json TEXT NOT NULL,
        at BIGINT NOT NULL,
        status TEXT NOT NULL DEFAULT 'queued',
        term BIGINT NOT NULL DEFAULT 0,
        answer_json TEXT,
        seq BIGSERIAL NOT NULL
      );
      CREATE INDEX commands_open ON commands(status, at);
    `,
  },
  {
    version: 3,
    name: 'scheduled deploys and scheduler bookkeeping',
    sql: `
      CREATE TABLE schedules (
        id TEXT PRIMARY KEY,
        run_at BIGINT NOT NULL,
        status TEXT NOT NULL,
        service TEXT NOT NULL,
        environment TEXT NOT NULL,
        version TEXT NOT NULL,
        request_json TEXT NOT NULL,
        plan_json TEXT NOT NULL,
        requester_json TEXT NOT NULL,
        notify_json TEXT,
        freeze_override_json TEXT,
        run_id TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX schedules_due ON schedules(status, run_at);

      CREATE TABLE scheduler_marks (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        at BIGINT NOT NULL,
        PRIMARY KEY (kind, key)
      );
    `,
  },
];
