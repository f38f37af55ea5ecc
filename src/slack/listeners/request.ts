// The buttons on the first reply (Configure… / Start / Cancel) and `/deploy`. The modal they
// open is handled in ./modal.ts; starting the run in ../start-run.ts.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { parseSlashDeploy } from '../../domain/parse.js';
import { DeployRequest } from '../../domain/types.js';
import { deployModal, type ModalMetadata, type SlackView } from '../blocks/modal.js';
import { helpText, REQUEST_ACTIONS, requestClosed } from '../blocks/request.js';
import { editMessage, errorCode, replyInThread, tellPrivately, type SlackContext } from '../context.js';
import { modalFor, planFromRequest } from '../planning.js';
import { parseScheduleCommand, runScheduleCommand, scheduleRun } from '../schedule.js';
import { startRun } from '../start-run.js';
import { runCommand, statusText } from './commands.js';

function decodeRequest(value: string | undefined): DeployRequest | undefined {
  try {
    const r = DeployRequest.safeParse(JSON.parse(value ?? ''));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

const STALE_BUTTON = 'This button is from an older Shipbot; ask again.';

/** Where a request-reply button was pressed, and the request it carries (undefined if unreadable). */
function pressed(body: BlockAction<ButtonAction>, action: ButtonAction) {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const message = body.message;
  if (!channel || !message) return undefined;
  const threadTs = (message.thread_ts as string | undefined) ?? message.ts;
  return { channel, replyTs: message.ts, threadTs, user: body.user.id, request: decodeRequest(action.value) };
}

/** Opens the modal with the trigger_id while it is fresh (it lives 3 s): no other call before it. */
async function openModal(
  ctx: SlackContext,
  triggerId: string,
  request: DeployRequest,
  where: Pick<ModalMetadata, 'channel' | 'threadTs' | 'replyTs'>,
  user: string,
): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: triggerId, view: deployModal(modalFor(request, ctx.config, where)) as unknown as SlackView });
  } catch (err) {
    const code = errorCode(err);
    ctx.logger.warn({ err: code }, 'views.open failed');
    const text =
      code === 'expired_trigger_id' || code === 'exchanged_trigger_id'
        ? '⏱️ Slack closed the window for opening the form (it lasts 3 seconds). Press *Configure…* again.'
        : `⚠️ I could not open the form (${code}). Try again; if it keeps failing, tell whoever runs Shipbot.`;
    await tellPrivately(ctx, where.channel, user, text, where.threadTs || undefined);
  }
}

export function registerRequestListeners(app: App, ctx: SlackContext): void {
  app.action<BlockAction<ButtonAction>>(REQUEST_ACTIONS.configure, async ({ ack, body, action }) => {
    await ack();
    const p = pressed(body, action);
    if (!p) return;
    if (!p.request) return tellPrivately(ctx, p.channel, p.user, STALE_BUTTON, p.threadTs);
    await openModal(ctx, body.trigger_id, p.request, { channel: p.channel, threadTs: p.threadTs, replyTs: p.replyTs }, p.user);
  });

  // Start, and "Queue behind it" on a lock refusal: the same request, started now or booked to
  // start when the lock is released (a booking leaves the refusal it answers in place).
  for (const [actionId, queued] of [
    [REQUEST_ACTIONS.start, false],
    [REQUEST_ACTIONS.queue, true],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action }) => {
      await ack();
      const p = pressed(body, action);
      if (!p) return;
      const { channel, threadTs, user, request } = p;
      if (!request) return tellPrivately(ctx, channel, user, STALE_BUTTON, threadTs);
      const planned = planFromRequest(request, ctx.config);
      if (!planned.ok) return tellPrivately(ctx, channel, user, `⚠️ ${planned.message} Press *Configure…* to fill it in.`, threadTs);
      // Whichever message held the button (the proposal, or a refusal offering to queue) is closed once it acted.
      const how = queued
        ? { replyTs: p.replyTs, dedupeKey: `slack:${channel}:${threadTs}:queued`, queueIfLocked: true }
        : { replyTs: p.replyTs, dedupeKey: `slack:${channel}:${threadTs}` };
      await startRun(ctx, { request, plan: planned.plan, user, channel, threadTs, ...how });
    });
  }

  app.action<BlockAction<ButtonAction>>(REQUEST_ACTIONS.schedule, async ({ ack, body, action }) => {
    await ack();
    const p = pressed(body, action);
    if (!p) return;
    const { channel, threadTs, user, request } = p;
    if (!request?.scheduledAt) return tellPrivately(ctx, channel, user, STALE_BUTTON, threadTs);
    if (!ctx.scheduling)
      return tellPrivately(
        ctx,
        channel,
        user,
        '⚠️ Scheduling is not switched on in this Shipbot; press *Start now* or ask again at that time.',
        threadTs,
      );
    const planned = planFromRequest(request, ctx.config);
    if (!planned.ok) return tellPrivately(ctx, channel, user, `⚠️ ${planned.message} Press *Configure…* to fill it in.`, threadTs);
    await scheduleRun(ctx, { request, plan: planned.plan, user, channel, threadTs, replyTs: p.replyTs });
  });

  app.action<BlockAction<ButtonAction>>(REQUEST_ACTIONS.cancel, async ({ ack, body, action }) => {
    await ack();
    const p = pressed(body, action);
    if (!p?.request) return;
    await editMessage(ctx, p.channel, p.replyTs, requestClosed(p.request, `Cancelled by <@${p.user}>; nothing was deployed.`));
  });

  app.command('/deploy', async ({ ack, command }) => {
    const scheduleCmd = ctx.scheduling ? parseScheduleCommand(command.text) : undefined;
    if (scheduleCmd?.kind === 'list')
      return void (await ack({ response_type: 'ephemeral', text: `*Scheduled deploys* (UTC)\n${ctx.scheduling!.describe()}` }));
    if (scheduleCmd) {
      await ack();
      const root = await replyInThread(ctx, command.channel_id, '', `<@${command.user_id}> ran \`/deploy ${command.text}\``);
      if (root)
        await runScheduleCommand(ctx, scheduleCmd, { channel: command.channel_id, threadTs: root, inThread: false, user: command.user_id });
      return;
    }
    const parsed = parseSlashDeploy(command.text, ctx.config, ctx.now());
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: `🤔 ${parsed.reason}` });
      return;
    }
    // Help and status are only for the person asking: answered in the acknowledgement itself.
    if (parsed.command.intent === 'help') return void (await ack({ response_type: 'ephemeral', text: helpText() }));
    if (parsed.command.intent === 'status')
      return void (await ack({
        response_type: 'ephemeral',
        text: statusText(await ctx.runner.list(), await ctx.runner.locks(), parsed.command.service),
      }));
    await ack();
    const where = { channel: command.channel_id, threadTs: '' };
    if (parsed.command.intent === 'deploy') {
      await openModal(ctx, command.trigger_id, parsed.command, where, command.user_id);
      return;
    }
    // `/deploy rollback checkout`, `/deploy lock …`: everyone should see those, in a thread of their own.
    const root = await replyInThread(ctx, command.channel_id, '', `<@${command.user_id}> ran \`/deploy ${command.text}\``);
    if (root)
      await runCommand(ctx, parsed.command, {
        channel: command.channel_id,
        threadTs: root,
        inThread: false,
        user: command.user_id,
        channelName: command.channel_name,
      });
  });
}
