// The scheduler: node-cron wakes it every minute; each tick reads what is due from SQLite and
// acts through the runner (scheduled deploys), the cluster (retiring old blue-green colours) and
// a `post` dependency (reminders, the daily digest). Nothing lives only in memory, so a restart
// loses nothing and "done once" stays once (claims and marks are transactions in the store).
import { randomUUID } from 'node:crypto';
import { schedule as cronSchedule, validate as cronValidate } from 'node-cron';
import type { Clock } from '../clock.js';
import type { ShipbotConfig } from '../config.js';
import { describeFreeze, activeFreeze } from '../domain/freeze.js';
import { isIncidentCommander } from '../domain/permissions.js';
import type { Actor, DeployPlan, DeployRequest } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { Runner } from '../runner/index.js';
import type { RunOrigin } from '../domain/run.js';
import { actorLabel, type RunRecord } from '../store/records.js';
import type { ScheduleStore, ScheduleNotify, ScheduleRecord } from '../store/schedules.js';
import type { Store } from '../store/run-store.js';
import { reapDecision, retirements, waitingFor, WAITING_FOR_A_PERSON, type ReapOptions } from './decisions.js';
import { computeDigest, digestWindow, formatDigest } from './digest.js';

export interface SchedulerDeps {
  store: Store;
  /** Scheduled deploys and the scheduler's marks (SQLite: see store/schedules.ts). */
  schedules: ScheduleStore;
  runner: Runner;
  config: ShipbotConfig;
  clock: Clock;
  logger: Logger;
  /** Posts a message (Slack mrkdwn); `threadTs` answers in a thread. Without it nothing is posted. */
  post?: (channel: string, text: string, threadTs?: string) => Promise<void>;
  /** node-cron expression for the tick (default every minute). */
  cron?: string;
  /** Reminder, then safe stop, of runs waiting for a person (defaults 30 and 120 clock minutes). */
  reap?: Partial<ReapOptions>;
  /** UTC hour at which the daily digest covering the previous 24 h is posted (default 9). */
  digestHourUtc?: number;
  /** A scheduled deploy found more than this many clock minutes late is not started (default 60). */
  maxLateMin?: number;
}

export interface TickReport {
  started: Array<{ scheduleId: string; runId: string }>;
  refused: Array<{ scheduleId: string; note: string }>;
  retired: Array<{ runId: string; deployments: string[] }>;
  reminded: string[];
  stopped: string[];
  digest?: string;
  errors: string[];
}

export interface Scheduler {
  /** One pass over every job; overlapping calls wait for the pass in progress and share it. */
  tick(): Promise<TickReport>;
  readonly schedules: ScheduleStore;
}

/** A claim not settled after this long (clock ms) was left by a process that died. */
const ORPHAN_AFTER_MS = 10 * 60_000;
const DEFAULT_REAP: ReapOptions = { remindAfterMin: 30, stopAfterMin: 120 };

function fmtTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 16) + ' UTC';
}

export function createScheduler(deps: SchedulerDeps): Scheduler {
  const { schedules } = deps;
  const reapOpts: ReapOptions = { ...DEFAULT_REAP, ...deps.reap };
  const log = deps.logger.child({ part: 'scheduler' });
  let running: Promise<TickReport> | undefined;
  let firstTick = true;

  async function post(channel: string | undefined, text: string, threadTs?: string): Promise<void> {
    if (!channel || !deps.post) return;
    try {
      await deps.post(channel, text, threadTs);
    } catch (err) {
      log.warn({ err, channel }, 'posting a scheduler message failed');
    }
  }

  const tellSchedule = (s: ScheduleRecord, text: string) => post(s.notify?.channel, text, s.notify?.threadTs);

  async function startOne(s: ScheduleRecord, now: number, out: TickReport): Promise<void> {
    const late = now - s.runAt;
    const maxLate = (deps.maxLateMin ?? 60) * 60_000;
    if (late > maxLate) {
      const note = `missed: it was due at ${fmtTime(s.runAt)} but Shipbot was not running then; ask again to deploy now`;
      if (!(await schedules.settle(s.id, 'refused', now, { note }))) return;
      await deps.store.audit({
        at: now,
        actor: 'shipbot',
        action: 'schedule-missed',
        detail: `${s.id}: ${s.service} ${s.version} to ${s.environment}`,
      });
      out.refused.push({ scheduleId: s.id, note });
      await tellSchedule(s, `🕒 Scheduled deploy ${s.id} (${s.service} ${s.version}) was not started: ${note}.`);
      return;
    }
    // A Slack schedule runs in its thread like any Slack run (progress message, summary).
    const origin: RunOrigin = s.notify
      ? { kind: 'slack', channel: s.notify.channel, threadTs: s.notify.threadTs }
      : { kind: 'schedule', scheduleId: s.id };
    const res = await deps.runner.start({
      request: s.request,
      plan: s.plan,
      requester: s.requester,
      origin,
      queueIfLocked: true,
      // Same key on a retry after a crash between claim and start: the runner starts one run.
      dedupeKey: `schedule:${s.id}`,
      ...(s.freezeOverride ? { freezeOverride: s.freezeOverride } : {}),
    });
    // Only the tick that settles the row reports it (another process may have retried the same claim).
    if (res.ok) {
      if (!(await schedules.settle(s.id, 'started', now, { runId: res.run.id }))) return;
      await deps.store.audit({
        runId: res.run.id,
        at: now,
        actor: 'shipbot',
        action: 'schedule-start',
        detail: `schedule ${s.id} due at ${fmtTime(s.runAt)} → run ${res.run.id} (${res.run.phase.status})`,
      });
      out.started.push({ scheduleId: s.id, runId: res.run.id });
    } else {
      if (!(await schedules.settle(s.id, 'refused', now, { note: res.message }))) return;
      await deps.store.audit({ at: now, actor: 'shipbot', action: `schedule-${res.reason}`, detail: `${s.id}: ${res.message}` });
      out.refused.push({ scheduleId: s.id, note: res.message });
      await tellSchedule(s, `🕒 Scheduled deploy ${s.id} (${s.service} ${s.version} to ${s.environment}) did not start: ${res.message}`);
    }
  }

  async function startDue(now: number, out: TickReport): Promise<void> {
    // Rows a crash left claimed but not started come first: all of them on this scheduler's first
    // tick (a restart), later only claims older than a tick could take (another process died).
    const orphans = await schedules.listStarting(firstTick ? Number.MAX_SAFE_INTEGER : now - ORPHAN_AFTER_MS);
    firstTick = false;
    for (const s of [...orphans, ...(await schedules.claimDue(now))]) {
      try {
        await startOne(s, now, out);
      } catch (err) {
        const note = `Shipbot could not start it: ${(err as Error).message}`;
        if (!(await schedules.settle(s.id, 'failed', now, { note }))) continue;
        out.errors.push(`${s.id}: ${note}`);
        await tellSchedule(s, `🕒 Scheduled deploy ${s.id} failed to start: ${(err as Error).message}. Deploy it by hand.`);
      }
    }
  }

  async function retire(now: number, out: TickReport): Promise<void> {
    const runs: RunRecord[] = [];
    for (const r of await deps.store.listRuns({ status: ['succeeded'], limit: 500 }))
      if (r.strategy === 'blue-green' && !(await schedules.hasMark('retired', r.id))) runs.push(r);
    const held = new Set((await deps.store.listLocks()).map((l) => `${l.service}/${l.environment}`));
    const locked = (service: string, env: string) => held.has(`${service}/${env}`);
    for (const d of retirements(runs, now, locked)) {
      if (d.action === 'wait') continue;
      const run = runs.find((r) => r.id === d.runId)!;
      if (d.action === 'superseded') {
        await schedules.mark('retired', run.id, now);
        continue;
      }
      try {
        // Through the runner, like every cluster change: audited in the run's trail.
        const r = await deps.runner.retireIdleColour(run.id);
        await schedules.mark('retired', run.id, now);
        if (r.ok) out.retired.push({ runId: run.id, deployments: r.deployments });
      } catch (err) {
        // Left unmarked: the next tick tries again.
        out.errors.push(`retiring the old colour of ${run.service} (${run.id}): ${(err as Error).message}`);
      }
    }
  }

  async function reap(now: number, out: TickReport): Promise<void> {
    for (const run of await deps.runner.list({ status: [...WAITING_FOR_A_PERSON] })) {
      // A run waiting for a person is not saved meanwhile, so updatedAt is when it began to wait.
      const since = run.updatedAt;
      const d = reapDecision(run, since, now, reapOpts);
      if (d.action === 'none') continue;
      const key = `${run.id}@${since}`;
      const thread = run.origin.kind === 'slack' ? run.origin : undefined;
      if (d.action === 'remind') {
        if (!(await schedules.mark('reminded', key, now))) continue;
        const stopAt = since + reapOpts.stopAfterMin * 60_000;
        const text = `⏰ Run ${run.id} (${run.service} ${run.version} to ${run.environment}) has waited ${d.waitedMin} min for ${waitingFor(run.phase.status)}. If nobody acts, Shipbot stops it safely at ${fmtTime(stopAt)} (cancelled, or rolled back if the cluster was changed).`;
        await deps.store.audit({ runId: run.id, at: now, actor: 'shipbot', action: 'reminder', detail: text });
        await post(thread?.channel, text, thread?.threadTs);
        out.reminded.push(run.id);
        continue;
      }
      if (!(await schedules.mark('reaped', key, now))) continue;
      await deps.store.audit({
        runId: run.id,
        at: now,
        actor: 'shipbot',
        action: 'reap',
        detail: `waited ${d.waitedMin} min for ${waitingFor(run.phase.status)}; stopping safely`,
      });
      // Cancel is the safe stop: before the cluster changed it cancels, after it rolls back.
      // The runner checks roles, so the reaper acts on behalf of the requester and says so.
      const actor: Actor = { userId: run.requester.userId, name: `Shipbot, after ${d.waitedMin} min without a decision` };
      const res = await deps.runner.command(run.id, 'cancel', actor);
      if (res.ok) out.stopped.push(run.id);
      else {
        await schedules.unmark('reaped', key);
        out.errors.push(`stopping ${run.id}: ${res.message}`);
      }
      await post(
        thread?.channel,
        `⏹️ Run ${run.id} waited ${d.waitedMin} min for ${waitingFor(run.phase.status)} and was stopped safely: ${res.message}.`,
        thread?.threadTs,
      );
    }
  }

  async function digest(now: number, out: TickReport): Promise<void> {
    const channel = deps.config.channels.stakeholder;
    if (!channel || !deps.post) return;
    const w = digestWindow(now, deps.digestHourUtc ?? 9);
    if (!(await schedules.mark('digest', w.key, now))) return;
    const runs = (await deps.store.listRuns({ limit: 5000 })).filter((r) => r.createdAt >= w.from && r.createdAt < w.to);
    const text = formatDigest(computeDigest(runs, w.from, w.to));
    try {
      await deps.post(channel, text);
      out.digest = text;
    } catch (err) {
      await schedules.unmark('digest', w.key); // try again next tick
      out.errors.push(`posting the digest to ${channel}: ${(err as Error).message}`);
    }
  }

  async function pass(): Promise<TickReport> {
    const out: TickReport = { started: [], refused: [], retired: [], reminded: [], stopped: [], errors: [] };
    const now = deps.clock.now();
    for (const [name, job] of [
      ['scheduled deploys', startDue],
      ['retirement', retire],
      ['reaper', reap],
      ['digest', digest],
    ] as const) {
      try {
        await job(now, out);
      } catch (err) {
        out.errors.push(`${name}: ${(err as Error).message}`);
      }
    }
    for (const e of out.errors) log.warn(e);
    return out;
  }

  return {
    schedules,
    tick() {
      running ??= pass().finally(() => (running = undefined));
      return running;
    },
  };
}

/** Starts the cron tick; `stop()` stops it and waits for a tick in progress. */
export function startScheduler(deps: SchedulerDeps): { stop(): Promise<void>; scheduler: Scheduler } {
  const expr = deps.cron ?? '* * * * *';
  if (!cronValidate(expr))
    throw new Error(`'${expr}' is not a valid cron expression for the scheduler tick; use e.g. '* * * * *' (every minute).`);
  const scheduler = createScheduler(deps);
  let last: Promise<unknown> = Promise.resolve();
  const task = cronSchedule(
    expr,
    () => {
      last = scheduler.tick().catch((err) => deps.logger.error({ err }, 'scheduler tick failed'));
    },
    { name: 'shipbot-scheduler', noOverlap: true },
  );
  return {
    scheduler,
    async stop() {
      await task.stop();
      await task.destroy();
      await last;
    },
  };
}

// --- booking a schedule (front ends) -----------------------------------------------------------

export interface BookInput {
  request: DeployRequest;
  plan: DeployPlan;
  requester: Actor;
  /** ISO time, e.g. the parser's `scheduledAt`. */
  at: string;
  notify?: ScheduleNotify;
}

export type BookResult = { ok: true; schedule: ScheduleRecord; warning?: string } | { ok: false; message: string };

/** Saves a scheduled deploy after checking its time; warns when it falls inside a freeze window. */
export async function bookSchedule(
  deps: Pick<SchedulerDeps, 'store' | 'schedules' | 'clock' | 'config'>,
  input: BookInput,
): Promise<BookResult> {
  const runAt = Date.parse(input.at);
  const now = deps.clock.now();
  if (!Number.isFinite(runAt))
    return { ok: false, message: `'${input.at}' is not a time I can schedule; give one like 'at 02:00' or 'tomorrow 09:30' (UTC).` };
  if (runAt <= now) return { ok: false, message: `${fmtTime(runAt)} has already passed; give a later time or deploy now.` };
  const schedule = await deps.schedules.create(
    {
      id: `s-${randomUUID().slice(0, 6)}`,
      runAt,
      request: input.request,
      plan: input.plan,
      requester: input.requester,
      ...(input.notify ? { notify: input.notify } : {}),
    },
    now,
  );
  await deps.store.audit({
    at: now,
    actor: actorLabel(input.requester),
    action: 'schedule',
    detail: `${schedule.id}: ${schedule.service} ${schedule.version} to ${schedule.environment} at ${fmtTime(runAt)}`,
  });
  const freeze = activeFreeze(deps.config.freezeWindows, input.plan.environment, new Date(runAt));
  return {
    ok: true,
    schedule,
    ...(freeze
      ? {
          warning: `${describeFreeze(freeze)} It will not start unless an incident commander overrides the freeze (\`override freeze ${schedule.id} <reason>\`).`,
        }
      : {}),
  };
}

/** Cancels a pending schedule: its requester or an incident commander may. */
export async function cancelSchedule(
  deps: Pick<SchedulerDeps, 'store' | 'schedules' | 'clock' | 'config'>,
  id: string,
  actor: Actor,
): Promise<{ ok: boolean; message: string }> {
  const schedules = deps.schedules;
  const s = await schedules.get(id);
  if (!s) return { ok: false, message: `No scheduled deploy ${id}. \`schedules\` lists them.` };
  if (s.requester.userId !== actor.userId && !isIncidentCommander(actor, deps.config)) {
    return { ok: false, message: `Only ${actorLabel(s.requester)} (who scheduled it) or an incident commander may cancel ${id}.` };
  }
  const now = deps.clock.now();
  if (!(await schedules.cancel(id, `cancelled by ${actorLabel(actor)}`, now))) {
    return {
      ok: false,
      message: `${id} is ${s.status}${s.runId ? ` (run ${s.runId})` : ''}: only a schedule still to come can be cancelled${s.runId ? '; cancel the run instead' : ''}.`,
    };
  }
  await deps.store.audit({
    at: now,
    actor: actorLabel(actor),
    action: 'schedule-cancel',
    detail: `${id}: ${s.service} ${s.version} to ${s.environment}, was due at ${fmtTime(s.runAt)}`,
  });
  return { ok: true, message: `Cancelled ${id} (${s.service} ${s.version} to ${s.environment} at ${fmtTime(s.runAt)}).` };
}

/** An incident commander lets a pending schedule start inside a freeze window; audited. */
export async function overrideFreeze(
  deps: Pick<SchedulerDeps, 'store' | 'schedules' | 'clock' | 'config'>,
  id: string,
  actor: Actor,
  reason: string,
): Promise<{ ok: boolean; message: string }> {
  if (!isIncidentCommander(actor, deps.config)) {
    return {
      ok: false,
      message: 'Only incident commanders (roles.incidentCommanders in shipbot.yml) may override a freeze; ask one of them.',
    };
  }
  if (!reason.trim()) return { ok: false, message: `Say why the freeze is overridden: \`override freeze ${id} <reason>\`.` };
  const now = deps.clock.now();
  const schedules = deps.schedules;
  if (!(await schedules.setFreezeOverride(id, { actor, reason: reason.trim() }, now))) {
    return { ok: false, message: `No scheduled deploy ${id} is still to come. \`schedules\` lists them.` };
  }
  await deps.store.audit({ at: now, actor: actorLabel(actor), action: 'schedule-freeze-override', detail: `${id}: ${reason.trim()}` });
  return { ok: true, message: `${id} may start inside a freeze window: overridden by ${actorLabel(actor)} (${reason.trim()}).` };
}

/** Pending schedules as lines of text, soonest first. */
export function describeSchedules(list: readonly ScheduleRecord[]): string {
  if (!list.length) return 'No deploys are scheduled.';
  return list
    .map(
      (s) =>
        `• \`${s.id}\` ${fmtTime(s.runAt)} — ${s.service} ${s.version} to ${s.environment} (${s.plan.strategy}), by ${actorLabel(s.requester)}${s.freezeOverride ? ' — freeze overridden' : ''}`,
    )
    .join('\n');
}

/** What a front end (Slack) needs to book, list, cancel and override schedules. */
export interface Scheduling {
  book(input: BookInput): Promise<BookResult>;
  cancel(id: string, actor: Actor): Promise<{ ok: boolean; message: string }>;
  overrideFreeze(id: string, actor: Actor, reason: string): Promise<{ ok: boolean; message: string }>;
  /** Pending schedules, one line each. */
  describe(): Promise<string>;
}

export function schedulingFor(deps: Pick<SchedulerDeps, 'store' | 'schedules' | 'clock' | 'config'>): Scheduling {
  return {
    book: (input) => bookSchedule(deps, input),
    cancel: (id, actor) => cancelSchedule(deps, id, actor),
    overrideFreeze: (id, actor, reason) => overrideFreeze(deps, id, actor, reason),
    describe: async () => describeSchedules(await deps.schedules.list()),
  };
}
