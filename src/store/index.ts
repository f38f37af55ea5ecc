export { FencedError, openStore, Store, type LockAttempt, type RunFilter } from './store.js';
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
