// Scheduled work (issue 10): scheduled deploys, retiring old blue-green colours, reaping runs
// that wait too long for a person, and the daily digest. main.ts calls startScheduler().
export {
  startScheduler,
  createScheduler,
  bookSchedule,
  cancelSchedule,
  overrideFreeze,
  describeSchedules,
  schedulingFor,
  type Scheduling,
  type Scheduler,
  type SchedulerDeps,
  type TickReport,
  type BookInput,
  type BookResult,
} from './scheduler.js';
export { computeDigest, formatDigest, digestWindow, type Digest, type DigestRun } from './digest.js';
export { retirements, reapDecision, WAITING_FOR_A_PERSON, type ReapOptions, type ReapDecision, type RetireDecision } from './decisions.js';
