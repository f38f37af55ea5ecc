// What a parsed chat command does: a deploy request gets the first reply (understood, the
// recommendation, Configure… / Start / Cancel); rollback, cancel, status, lock and help act
// through the runner and answer in the thread. No deploy logic here.
import { lockedMessage } from '../../runner/messages.js';
import { findService } from '../../config.js';
import { gitopsPlanNote } from '../../domain/gitops-owner.js';
import { mayDeploy } from '../../domain/permissions.js';
import type { DeployRequest, Environment, ParsedCommand } from '../../domain/types.js';
import { FINAL_STATUSES, type RunView } from '../../domain/run.js';
import { labelName } from '../../domain/text.js';
import type { LockRecord } from '../../store/records.js';
import { helpText, requestReply } from '../blocks/request.js';
import { runTitle } from '../blocks/progress.js';
import { replyInThread, tellPrivately, type SlackContext } from '../context.js';
import { recommend } from '../planning.js';

export interface Origin {
  channel: string;
  /** The thread to answer in (the request's own ts when it was not in a thread). */
  threadTs: string;
  /** Set when the request itself was inside a thread (ephemeral answers go there). */
  inThread: boolean;
  user: string;
  channelName?: string;
}

export async function runCommand(ctx: SlackContext, cmd: ParsedCommand, o: Origin, note?: string): Promise<void> {
  switch (cmd.intent) {
    case 'deploy':
      return deployRequest(ctx, cmd, o, note);
    case 'help':
      await replyInThread(ctx, o.channel, o.threadTs, helpText());
      return;
    case 'status':
      await replyInThread(ctx, o.channel, o.threadTs, statusText(await ctx.runner.list(), await ctx.runner.locks(), cmd.service));
      return;
    case 'rollback':
    case 'cancel':
      return onLiveRun(ctx, cmd.intent, cmd.service, cmd.intent === 'rollback' ? cmd.environment : undefined, o);
    case 'stop-all':
    case 'resume-all': {
      const actor = await ctx.people.actor(o.user);
      const res = await (cmd.intent === 'stop-all' ? ctx.runner.stopAll(actor, cmd.reason) : ctx.runner.resumeAll(actor));
      await replyInThread(ctx, o.channel, o.threadTs, res.ok ? res.message : `🚫 ${res.message}`);
      return;
    }
    case 'lock':
    case 'unlock': {
      if (!cmd.service) {
        await replyInThread(
          ctx,
          o.channel,
          o.threadTs,
          `Which service? e.g. \`${cmd.intent} checkout production${cmd.intent === 'lock' ? ' because incident' : ''}\``,
        );
        return;
      }
      const actor = await ctx.people.actor(o.user);
      const res =
        cmd.intent === 'lock'
          ? await ctx.runner.lock(cmd.service, cmd.environment, actor, cmd.reason ?? 'locked from Slack')
          : await ctx.runner.unlock(cmd.service, cmd.environment, actor);
      await replyInThread(ctx, o.channel, o.threadTs, `${res.ok ? (cmd.intent === 'lock' ? '🔒' : '🔓') : '⚠️'} ${res.message}`);
      return;
    }
  }
}

async function deployRequest(ctx: SlackContext, request: DeployRequest, o: Origin, note?: string): Promise<void> {
  const [actor, channel] = await Promise.all([ctx.people.actor(o.user), ctx.channels.ref(o.channel, o.channelName)]);
  const may = mayDeploy(actor, channel, request.environment, ctx.config);
  if (!may.ok) {
    await tellPrivately(ctx, o.channel, o.user, `🚫 ${may.reason}`, o.inThread ? o.threadTs : undefined);
    return;
  }
  // A proposal for a locked service says so and offers to queue, not a Start that would be refused.
  const lock = (await ctx.runner.locks()).find((l) => l.service === request.service && l.environment === request.environment);
  const reply = requestReply(request, recommend(request, ctx.config), {
    canSchedule: Boolean(ctx.scheduling),
    ...(lock ? { locked: lockedMessage(lock, ctx.runner.wallTime) } : {}),
  });
  const service = request.service ? findService(ctx.config, request.service) : undefined;
  const gitops = service && gitopsPlanNote(service.name, request.environment, service.environments[request.environment]?.gitops);
  for (const text of [gitops, note])
    if (text) reply.blocks.splice(1, 0, { type: 'context', elements: [{ type: 'mrkdwn', text: text.slice(0, 2000) }] });
  await replyInThread(ctx, o.channel, o.threadTs, reply);
}

function live(runs: RunView[], service?: string, environment?: Environment): RunView[] {
  return runs.filter(
    (r) => !FINAL_STATUSES.has(r.phase.status) && (!service || r.service === service) && (!environment || r.environment === environment),
  );
}

/** What is deploying, and what is locked that a deploy would run into (a run's own lock shows as the run). */
export function statusText(runs: RunView[], locks: LockRecord[], service?: string): string {
  const now = live(runs, service);
  const held = locks.filter((l) => l.kind !== 'run' && (!service || l.service === service));
  const lines = now
    .slice(0, 20)
    .map((r) => `• *${runTitle(r)}* (${r.strategy}) — ${r.phase.status}${r.stage ? `: ${r.stage}` : ''} · run \`${r.id}\``);
  if (now.length > 20) lines.push(`…and ${now.length - 20} more`);
  if (!now.length) lines.push(service ? `Nothing is deploying ${service} right now.` : 'Nothing is deploying right now.');
  for (const l of held.slice(0, 10)) {
    const why = l.kind === 'held' ? `kept locked after ${l.reason}` : `locked by ${labelName(l.holder)}: ${l.reason}`;
    lines.push(
      `🔒 ${l.service} in ${l.environment} is ${why}. Deploys wait until it is unlocked (\`unlock ${l.service} ${l.environment}\`).`,
    );
  }
  return lines.join('\n');
}

/**
 * `rollback` / `cancel` typed in chat. In a run's thread it means that run; elsewhere it needs
 * the service, so a stray "rollback" in a channel never picks a deploy by itself.
 */
async function onLiveRun(
  ctx: SlackContext,
  cmd: 'rollback' | 'cancel',
  service: string | undefined,
  environment: Environment | undefined,
  o: Origin,
): Promise<void> {
  const running = live(await ctx.runner.list());
  const inThread = running.filter(
    (r) =>
      r.origin.kind === 'slack' &&
      r.origin.channel === o.channel &&
      r.origin.threadTs === o.threadTs &&
      (!service || r.service === service),
  );
  const candidates = inThread.length ? inThread : service ? live(running, service, environment) : [];
  if (candidates.length !== 1) {
    const text = candidates.length
      ? `More than one deploy is live${service ? ` for ${service}` : ''}: ${candidates.map((r) => `${runTitle(r)} (\`${r.id}\`)`).join(', ')}. Use the buttons on its progress message.`
      : service
        ? `There is no live deploy of ${service}${environment ? ` in ${environment}` : ''} to ${cmd}.`
        : `Which deploy? Say \`${cmd} checkout\`, say it in the deploy's thread, or press the button on its progress message.`;
    await replyInThread(ctx, o.channel, o.threadTs, text);
    return;
  }
  const run = candidates[0]!;
  const actor = await ctx.people.actor(o.user);
  const res = await ctx.runner.command(run.id, cmd, actor);
  if (!res.ok) {
    await tellPrivately(ctx, o.channel, o.user, `🚫 ${res.message}`, o.inThread ? o.threadTs : undefined);
    return;
  }
  await replyInThread(
    ctx,
    o.channel,
    o.threadTs,
    `${cmd === 'rollback' ? '↩️' : '🚫'} <@${o.user}> asked to ${cmd} ${runTitle(run)}: ${res.message}`,
  );
}
