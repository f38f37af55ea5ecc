// The rows both engines store, and how a record becomes them and back. One mapping, so SQLite
// and Postgres hold the same data the same way (JSON columns for what has no column of its own).
import type { RolloutState } from '../cluster/types.js';
import { type StepView, outcomeOf, reportPathOf } from '../domain/run.js';
import { type AuditRecord, type LockRecord, ownTarget, type RunRecord } from './records.js';
import { type StoredData, upgradeRow } from './upgrade.js';
import type { QueuedCommand } from './run-store.js';

export interface RunRow {
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

export interface StepRow {
  run_id: string;
  idx: number;
  key: string;
  title: string;
  status: string;
  detail: string | null;
  started_at: number | null;
  ended_at: number | null;
}

export interface LockRow {
  service: string;
  environment: string;
  holder: string;
  run_id: string | null;
  since: number;
  reason: string;
  kind: string;
}

export interface AuditRow {
  id: number;
  run_id: string | null;
  at: number;
  actor: string;
  action: string;
  detail: string;
}

export function fromRunRow(row: RunRow, stepRows: StepRow[]): RunRecord {
  const steps = stepRows.map(
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

export function toRow(run: RunRecord): RunRow {
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

export function fromLockRow(r: LockRow): LockRecord {
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

export interface CommandRow {
  id: string;
  run_id: string;
  cmd: string;
  actor_json: string;
  at: number;
}

export function fromCommandRow(r: CommandRow): QueuedCommand {
  return { id: r.id, runId: r.run_id, cmd: r.cmd as QueuedCommand['cmd'], actor: JSON.parse(r.actor_json), at: r.at };
}

export function fromAuditRow(r: AuditRow): AuditRecord {
  return {
    id: Number(r.id),
    at: r.at,
    actor: r.actor,
    action: r.action,
    detail: r.detail,
    ...(r.run_id !== null ? { runId: r.run_id } : {}),
  };
}
