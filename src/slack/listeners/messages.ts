// Requests typed in a channel: `@shipbot deploy …` (app_mention) and a plain `deploy …` message
// in a channel Shipbot is in. Slack sends a mention as both events and retries events; the
// request's channel + ts makes sure it is handled once.
import type { App } from '@slack/bolt';
import { parseCommand, startsWithDeployVerb } from '../../domain/parse.js';
import { replyInThread, type SlackContext } from '../context.js';
import { parseScheduleCommand, runScheduleCommand } from '../schedule.js';
import { runCommand } from './commands.js';

interface Incoming {
  channel: string;
  ts: string;
  threadTs?: string;
  user: string;
  text: string;
  /** Addressed to Shipbot: a non-request gets an explanation instead of silence. */
  addressed: boolean;
}

export function registerMessageListeners(app: App, ctx: SlackContext): void {
  app.event('app_mention', async ({ event }) => {
    if (!event.user || event.bot_id) return;
    await handleText(ctx, {
      channel: event.channel,
      ts: event.ts,
      threadTs: event.thread_ts,
      user: event.user,
      text: event.text,
      addressed: true,
    });
  });

  app.message(async ({ message, context }) => {
    // Edits, deletions, joins and bot posts (our own included) are not requests.
    if (message.subtype !== undefined || !('user' in message) || !message.user || message.bot_id) return;
    const text = message.text ?? '';
    // A mention arrives as an app_mention too; that event answers it.
    if (context.botUserId && text.includes(`<@${context.botUserId}>`)) return;
    // A direct message, or one that opens with a deploy verb, gets an answer even when it is not a request.
    const addressed = message.channel_type === 'im' || startsWithDeployVerb(text);
    await handleText(ctx, { channel: message.channel, ts: message.ts, threadTs: message.thread_ts, user: message.user, text, addressed });
  });
}

async function handleText(ctx: SlackContext, m: Incoming): Promise<void> {
  if (!(await ctx.seen.firstTime(`${m.channel}:${m.ts}`))) return;
  const origin = { channel: m.channel, threadTs: m.threadTs ?? m.ts, inThread: !!m.threadTs, user: m.user };
  // `schedules`, `cancel schedule s-…`, `override freeze s-…`: read before the deploy parser,
  // which would take "cancel schedule" for a cancel of a live run.
  const scheduleCmd = ctx.scheduling ? parseScheduleCommand(m.text) : undefined;
  if (scheduleCmd) return runScheduleCommand(ctx, scheduleCmd, origin);
  const parsed = parseCommand(m.text, ctx.config, ctx.now());
  if (parsed.ok) return runCommand(ctx, parsed.command, origin);
  // Plain channel chatter is not for us: only answer when addressed.
  if (!m.addressed) return;
  if (ctx.llm?.enabled && ctx.llm.understand) {
    const understood = await ctx.llm.understand(m.text, ctx.config);
    if (understood.request) return runCommand(ctx, understood.request, origin, `🤖 ${understood.note} Check it before you press Start.`);
  }
  await replyInThread(ctx, m.channel, origin.threadTs, `🤔 ${parsed.reason}`);
}
