// Scheduled deploys from Slack: *Schedule* on a request with a time books it (after the same
// deploy permission check as Start); `schedules`, `cancel schedule <id>` and
// `override freeze <id> <reason>` list, cancel and unfreeze. The scheduler (src/schedule)
// starts booked deploys through the runner; nothing here starts a run.
import { requestClosed, scheduleTime } from './blocks/request.js';
import { editMessage, replyInThread, tellPrivately, type SlackContext } from './context.js';
import type { RunStart } from './start-run.js';
import { deployRefusal } from './start-run.js';

export type ScheduleCommand = { kind: 'list' } | { kind: 'cancel'; id: string } | { kind: 'override'; id: string; reason: string };

/** Reads a schedule command, with or without a leading mention; undefined for anything else. */
export function parseScheduleCommand(text: string): ScheduleCommand | undefined {
  const t = text
    .replace(/<@[A-Z0-9]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (/^(?:list )?(?:schedules|scheduled(?: deploys)?)$/i.test(t)) return { kind: 'list' };
  const cancel = /^(?:cancel|unschedule|delete) schedule(?:d deploy)? (s-[a-z0-9-]+)$/i.exec(t);
  if (cancel) return { kind: 'cancel', id: cancel[1]!.toLowerCase() };
  const override = /^override freeze (?:for )?(s-[a-z0-9-]+)(?: (?:because |reason:? )?(.*))?$/i.exec(t);
  if (override) return { kind: 'override', id: override[1]!.toLowerCase(), reason: (override[2] ?? '').trim() };
  return undefined;
}

/** Books the request for its `scheduledAt` and closes the request reply so it is not booked twice. */
export async function scheduleRun(ctx: SlackContext, s: Omit<RunStart, 'dedupeKey'>): Promise<void> {
  const scheduling = ctx.scheduling;
  if (!scheduling || !s.request.scheduledAt) return;
  const refusal = await deployRefusal(ctx, s.user, s.channel, s.plan.environment);
  if (refusal) return tellPrivately(ctx, s.channel, s.user, refusal, s.threadTs);
  const requester = await ctx.people.actor(s.user);
  const booked = await scheduling.book({
    request: s.request,
    plan: s.plan,
    requester,
    at: s.request.scheduledAt,
    notify: { kind: 'slack', channel: s.channel, threadTs: s.threadTs },
  });
  if (!booked.ok) return tellPrivately(ctx, s.channel, s.user, `⚠️ ${booked.message}`, s.threadTs);
  const id = booked.schedule.id;
  const how = `🕒 Scheduled by <@${s.user}> for ${scheduleTime(new Date(booked.schedule.runAt).toISOString())} · \`${id}\` · \`cancel schedule ${id}\` cancels it`;
  if (s.replyTs) await editMessage(ctx, s.channel, s.replyTs, requestClosed(s.request, how));
  else await replyInThread(ctx, s.channel, s.threadTs, how);
  if (booked.warning) await replyInThread(ctx, s.channel, s.threadTs, `⚠️ ${booked.warning}`);
}

/** Answers a schedule command in the thread (refusals privately). */
export async function runScheduleCommand(
  ctx: SlackContext,
  cmd: ScheduleCommand,
  o: { channel: string; threadTs: string; inThread: boolean; user: string },
): Promise<void> {
  const scheduling = ctx.scheduling;
  if (!scheduling) return;
  if (cmd.kind === 'list') {
    await replyInThread(ctx, o.channel, o.threadTs, `*Scheduled deploys* (UTC)\n${await scheduling.describe()}`);
    return;
  }
  const actor = await ctx.people.actor(o.user);
  const res = await (cmd.kind === 'cancel' ? scheduling.cancel(cmd.id, actor) : scheduling.overrideFreeze(cmd.id, actor, cmd.reason));
  if (!res.ok) return tellPrivately(ctx, o.channel, o.user, `🚫 ${res.message}`, o.inThread ? o.threadTs : undefined);
  await replyInThread(ctx, o.channel, o.threadTs, `${cmd.kind === 'cancel' ? '🗑️' : '🧊'} <@${o.user}>: ${res.message}`);
}
