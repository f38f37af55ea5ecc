export { isStoreBusy, openStore, SqliteStore } from './store.js';
export { openRunStore } from './open.js';
export { PgStore } from './pg-store.js';
export { FencedError, type LockAttempt, type NewAudit, type RunFilter, type Store } from './run-store.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
export * from './records.js';
export {
  ScheduleStore,
  SCHEDULE_STATUSES,
  type ScheduleRecord,
  type ScheduleStatus,
  type ScheduleNotify,
  type NewSchedule,
  type ScheduleMarkKind,
} from './schedules.js';
