// Starting a run from Slack, shared by the Start button and the modal: the deploy permission
// (role and channel), optional guidance through Claude, the run with its progress message, and
// the request reply closed so it cannot start a second one.
import { mayDeploy } from '../domain/permissions.js';
import type { DeployPlan, DeployRequest } from '../domain/types.js';
import { requestClosed } from './blocks/request.js';
import { editMessage, replyInThread, tellPrivately, type SlackContext } from './context.js';

export interface RunStart {
  request: DeployRequest;
  plan: DeployPlan;
  user: string;
  channel: string;
  threadTs: string;
  replyTs?: string;
  dedupeKey: string;
  queueIfLocked?: boolean;
}

/** Why `user` may not deploy to `environment` from `channel`, or undefined when they may. */
export async function deployRefusal(
  ctx: SlackContext,
  user: string,
  channelId: string,
  environment: DeployPlan['environment'],
): Promise<string | undefined> {
  const [actor, channel] = await Promise.all([ctx.people.actor(user), ctx.channels.ref(channelId)]);
  const may = mayDeploy(actor, channel, environment, ctx.config);
  return may.ok ? undefined : `🚫 ${may.reason}`;
}

export async function startRun(ctx: SlackContext, s: RunStart): Promise<void> {
  // Whether this person may deploy here is the runner's admission to say, with the channel.
  const [actor, channel] = await Promise.all([ctx.people.actor(s.user), ctx.channels.ref(s.channel)]);
  let plan = s.plan;
  if (plan.guidance && ctx.llm?.enabled && ctx.llm.adjustPlan) {
    const adjusted = await ctx.llm.adjustPlan(plan, plan.guidance, ctx.config);
    if (adjusted.changes.length) {
      plan = adjusted.plan;
      await replyInThread(
        ctx,
        s.channel,
        s.threadTs,
        `📝 From the guidance: ${adjusted.changes
          .map((c) => `${c.field} ${String(c.from)} → ${String(c.to)} (${c.reason})`)
          .join('; ')
          .slice(0, 2500)} · ${adjusted.note}`,
      );
    }
  }
  const result = await ctx.runs.start({
    request: s.request,
    plan,
    requester: actor,
    channel: s.channel,
    where: channel,
    threadTs: s.threadTs,
    dedupeKey: s.dedupeKey,
    ...(s.queueIfLocked ? { queueIfLocked: true } : {}),
  });
  if (!result.ok) {
    if (!result.toldInThread)
      await tellPrivately(ctx, s.channel, s.user, `${result.reason === 'forbidden' ? '🚫' : '⚠️'} ${result.message}`, s.threadTs);
    // The thread says why below; the proposal keeps no Start that would be refused again.
    else if (s.replyTs) await editMessage(ctx, s.channel, s.replyTs, requestClosed(s.request, `Not started: see below.`));
    return;
  }
  if (s.replyTs) {
    const how = result.run.phase.status === 'queued' ? 'Queued behind the lock' : 'Started';
    await editMessage(ctx, s.channel, s.replyTs, requestClosed(s.request, `${how} by <@${s.user}> · run \`${result.run.id}\``));
  }
}
