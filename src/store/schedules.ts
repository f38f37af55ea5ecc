// Scheduled deploys and the scheduler's "done once" marks, in the store's database (SQLite or
// Postgres) so they survive restarts and every replica sees them. Claiming a due schedule is one
// UPDATE: two ticks (or two replicas) never both get the same row.
import type { Actor, DeployPlan, DeployRequest } from '../domain/types.js';
import type { SqlDoor } from './run-store.js';

export const SCHEDULE_STATUSES = ['pending', 'starting', 'started', 'refused', 'failed', 'cancelled'] as const;
export type ScheduleStatus = (typeof SCHEDULE_STATUSES)[number];

/** Where to tell people what became of a schedule (a Slack thread), if anywhere. */
export type ScheduleNotify = { kind: 'slack'; channel: string; threadTs: string };

export interface ScheduleRecord {
  id: string;
  runAt: number;
  status: ScheduleStatus;
  service: string;
  environment: DeployPlan['environment'];
  version: string;
  request: DeployRequest;
  plan: DeployPlan;
  requester: Actor;
  notify?: ScheduleNotify;
  freezeOverride?: { actor: Actor; reason: string };
  runId?: string;
  /** Why it was refused / failed / cancelled, in a sentence. */
  note: string;
  createdAt: number;
  updatedAt: number;
}

export type NewSchedule = Pick<ScheduleRecord, 'id' | 'runAt' | 'request' | 'plan' | 'requester'> &
  Partial<Pick<ScheduleRecord, 'notify' | 'freezeOverride'>>;

export type ScheduleMarkKind = 'retired' | 'reminded' | 'reaped' | 'digest';

interface Row {
  id: string;
  run_at: number;
  status: string;
  service: string;
  environment: string;
  version: string;
  request_json: string;
  plan_json: string;
  requester_json: string;
  notify_json: string | null;
  freeze_override_json: string | null;
  run_id: string | null;
  note: string;
  created_at: number;
  updated_at: number;
}

function fromRow(r: Row): ScheduleRecord {
  return {
    id: r.id,
    runAt: r.run_at,
    status: r.status as ScheduleStatus,
    service: r.service,
    environment: r.environment as ScheduleRecord['environment'],
    version: r.version,
    request: JSON.parse(r.request_json),
    plan: JSON.parse(r.plan_json),
    requester: JSON.parse(r.requester_json),
    note: r.note,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    ...(r.notify_json ? { notify: JSON.parse(r.notify_json) } : {}),
    ...(r.freeze_override_json ? { freezeOverride: JSON.parse(r.freeze_override_json) } : {}),
    ...(r.run_id !== null ? { runId: r.run_id } : {}),
  };
}

export class ScheduleStore {
  constructor(private readonly sql: SqlDoor) {}

  async create(s: NewSchedule, now: number): Promise<ScheduleRecord> {
    await this.sql.run(
      `INSERT INTO schedules (id, run_at, status, service, environment, version, request_json, plan_json, requester_json,
         notify_json, freeze_override_json, created_at, updated_at)
       VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        s.id,
        s.runAt,
        s.plan.service,
        s.plan.environment,
        s.plan.version,
        JSON.stringify(s.request),
        JSON.stringify(s.plan),
        JSON.stringify(s.requester),
        s.notify ? JSON.stringify(s.notify) : null,
        s.freezeOverride ? JSON.stringify(s.freezeOverride) : null,
        now,
        now,
      ],
    );
    return (await this.get(s.id))!;
  }

  async get(id: string): Promise<ScheduleRecord | undefined> {
    const [row] = await this.sql.all<Row>('SELECT * FROM schedules WHERE id = ?', [id]);
    return row ? fromRow(row) : undefined;
  }

  /** Soonest first; by default only those still to come (pending). */
  async list(statuses: ScheduleStatus[] = ['pending']): Promise<ScheduleRecord[]> {
    const rows = await this.sql.all<Row>(
      `SELECT * FROM schedules WHERE status IN (${statuses.map(() => '?').join(', ')}) ORDER BY run_at, created_at, id`,
      statuses,
    );
    return rows.map(fromRow);
  }

  /**
   * Claims every pending schedule due at `now` (pending → starting) in one statement and returns
   * them. A second call, in this process or another replica, gets none of the same rows.
   */
  async claimDue(now: number): Promise<ScheduleRecord[]> {
    const rows = await this.sql.all<Row>(
      `UPDATE schedules SET status = 'starting', updated_at = ? WHERE status = 'pending' AND run_at <= ? RETURNING *`,
      [now, now],
    );
    return rows.map(fromRow).sort((a, b) => a.runAt - b.runAt);
  }

  /**
   * Schedules claimed at or before `claimedBefore` and never settled: a crash between claim and
   * start left them. The runner's dedupe key makes starting them again safe.
   */
  async listStarting(claimedBefore = Number.MAX_SAFE_INTEGER): Promise<ScheduleRecord[]> {
    return (await this.list(['starting'])).filter((s) => s.updatedAt <= claimedBefore);
  }

  /** Records what became of a claimed schedule; false when another tick settled it first. */
  async settle(
    id: string,
    status: 'started' | 'refused' | 'failed',
    now: number,
    detail: { runId?: string; note?: string },
  ): Promise<boolean> {
    const changed = await this.sql.run(
      `UPDATE schedules SET status = ?, run_id = COALESCE(?, run_id), note = ?, updated_at = ? WHERE id = ? AND status = 'starting'`,
      [status, detail.runId ?? null, detail.note ?? '', now, id],
    );
    return changed > 0;
  }

  /** Cancels a pending schedule; false when it was not pending any more (already started, cancelled…). */
  async cancel(id: string, note: string, now: number): Promise<boolean> {
    return (
      (await this.sql.run(`UPDATE schedules SET status = 'cancelled', note = ?, updated_at = ? WHERE id = ? AND status = 'pending'`, [
        note,
        now,
        id,
      ])) > 0
    );
  }

  /** Sets (or replaces) the incident commander's freeze override of a pending schedule. */
  async setFreezeOverride(id: string, override: { actor: Actor; reason: string }, now: number): Promise<boolean> {
    const changed = await this.sql.run(
      `UPDATE schedules SET freeze_override_json = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
      [JSON.stringify(override), now, id],
    );
    return changed > 0;
  }

  /** Records that a periodic job did `kind` for `key`; false when it was already recorded. */
  async mark(kind: ScheduleMarkKind, key: string, now: number): Promise<boolean> {
    return (
      (await this.sql.run('INSERT INTO scheduler_marks (kind, key, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [kind, key, now])) > 0
    );
  }

  async hasMark(kind: ScheduleMarkKind, key: string): Promise<boolean> {
    return (await this.sql.all('SELECT 1 FROM scheduler_marks WHERE kind = ? AND key = ?', [kind, key])).length > 0;
  }

  async unmark(kind: ScheduleMarkKind, key: string): Promise<void> {
    await this.sql.run('DELETE FROM scheduler_marks WHERE kind = ? AND key = ?', [kind, key]);
  }
}
