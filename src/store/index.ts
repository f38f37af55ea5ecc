export { openStore, Store, type LockAttempt, type RunFilter } from './store.js';
export { migrate, MIGRATIONS, type Migration } from './migrations.js';
export * from './records.js';
