// The buttons on the first reply (Configure… / Start / Cancel), `/deploy`, and the modal: its
// risk select (updates the dependent defaults) and its submission (inline errors, or a run).
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { mayDeploy } from '../../domain/permissions.js';
import { parseSlashDeploy } from '../../domain/parse.js';
import { DeployRequest, RiskLevel, type DeployPlan } from '../../domain/types.js';
import { decodeMetadata, deployModal, errorsForView, MODAL_CALLBACK, readFields, RISK_ACTION, type ModalMetadata, type StateValues } from '../blocks/modal.js';
import { REQUEST_ACTIONS, requestClosed } from '../blocks/request.js';
import { errorCode, replyInThread, tellPrivately, type SlackContext } from '../context.js';
import { answersFromFields, modalFor, planFromModal, planFromRequest, withRisk } from '../planning.js';
import { runCommand } from './commands.js';

function decodeRequest(value: string | undefined): DeployRequest | undefined {
  try {
    const r = DeployRequest.safeParse(JSON.parse(value ?? ''));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Opens the modal with the trigger_id while it is fresh (it lives 3 s): no other call before it. */
async function openModal(ctx: SlackContext, triggerId: string, request: DeployRequest, where: Pick<ModalMetadata, 'channel' | 'threadTs' | 'replyTs'>, user: string): Promise<void> {
  try {
    await ctx.client.views.open({ trigger_id: triggerId, view: deployModal(modalFor(request, ctx.config, where)) as never });
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
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    const request = decodeRequest(action.value);
    if (!channel || !message) return;
    const threadTs = (message.thread_ts as string | undefined) ?? message.ts;
    if (!request) return tellPrivately(ctx, channel, body.user.id, 'This button is from an older Shipbot; ask again.', threadTs);
    await openModal(ctx, body.trigger_id, request, { channel, threadTs, replyTs: message.ts }, body.user.id);
  });

  app.action<BlockAction<ButtonAction>>(REQUEST_ACTIONS.start, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    const request = decodeRequest(action.value);
    if (!channel || !message) return;
    const threadTs = (message.thread_ts as string | undefined) ?? message.ts;
    const user = body.user.id;
    if (!request) return tellPrivately(ctx, channel, user, 'This button is from an older Shipbot; ask again.', threadTs);
    const planned = planFromRequest(request, ctx.config);
    if (!planned.ok) return tellPrivately(ctx, channel, user, `⚠️ ${planned.message} Press *Configure…* to fill it in.`, threadTs);
    await startRun(ctx, { request, plan: planned.plan, user, channel, threadTs, replyTs: message.ts, dedupeKey: `slack:${channel}:${threadTs}` });
  });

  app.action<BlockAction<ButtonAction>>(REQUEST_ACTIONS.cancel, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const message = body.message;
    const request = decodeRequest(action.value);
    if (!channel || !message || !request) return;
    await ctx.client.chat
      .update({ channel, ts: message.ts, ...requestClosed(request, `Cancelled by <@${body.user.id}>; nothing was deployed.`) })
      .catch((err: unknown) => ctx.logger.warn({ err: errorCode(err) }, 'could not close the request reply'));
  });

  app.command('/deploy', async ({ ack, command }) => {
    const parsed = parseSlashDeploy(command.text, ctx.config, ctx.now());
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: `🤔 ${parsed.reason}` });
      return;
    }
    await ack();
    const where = { channel: command.channel_id, threadTs: '' };
    if (parsed.command.intent === 'deploy') {
      await openModal(ctx, command.trigger_id, parsed.command, where, command.user_id);
      return;
    }
    // `/deploy status`, `/deploy rollback checkout`…: answered in a thread of their own.
    const root = await replyInThread(ctx, command.channel_id, '', `<@${command.user_id}> ran \`/deploy ${command.text}\``);
    if (root) await runCommand(ctx, parsed.command, { channel: command.channel_id, threadTs: root, inThread: false, user: command.user_id, channelName: command.channel_name });
  });

  app.action<BlockAction>(RISK_ACTION, async ({ ack, body, action }) => {
    await ack();
    const view = body.view;
    const meta = view && decodeMetadata(view.private_metadata);
    const risk = RiskLevel.safeParse('selected_option' in action ? action.selected_option?.value : undefined);
    if (!view || !meta || !risk.success) return;
    const request = DeployRequest.safeParse(meta.request);
    if (!request.success) return;
    const base = modalFor(request.data, ctx.config, meta);
    const fields = readFields(view.state.values as StateValues);
    const answers = withRisk(answersFromFields(fields, base.answers), risk.data, ctx.config);
    try {
      await ctx.client.views.update({ view_id: view.id, hash: view.hash, view: deployModal({ ...base, answers, metadata: meta }) as never });
    } catch (err) {
      // hash_conflict: the person changed something meanwhile; their newer change wins.
      ctx.logger.debug({ err: errorCode(err) }, 'views.update after a risk change failed');
    }
  });

  app.view(MODAL_CALLBACK, async ({ ack, view, body }) => {
    const meta = decodeMetadata(view.private_metadata);
    const values = view.state.values as StateValues;
    if (!meta) {
      await ack({ response_action: 'errors', errors: errorsForView({ guidance: 'This form is from an older Shipbot; close it and ask again.' }, values) });
      return;
    }
    const result = planFromModal(readFields(values), meta, ctx.config);
    if (!result.ok) {
      await ack({ response_action: 'errors', errors: errorsForView(result.errors, values) });
      return;
    }
    await ack();
    const user = body.user.id;
    let threadTs = meta.threadTs;
    const refusal = await deployRefusal(ctx, user, meta.channel, result.plan.environment);
    if (refusal) return tellPrivately(ctx, meta.channel, user, refusal, threadTs || undefined);
    if (!threadTs) {
      // From /deploy: the run gets a thread of its own.
      const root = await replyInThread(ctx, meta.channel, '', `<@${user}> is deploying *${result.plan.service} ${result.plan.version}* to *${result.plan.environment}*`);
      if (!root) return tellPrivately(ctx, meta.channel, user, '⚠️ I could not post in this channel. Invite me with `/invite @shipbot` and try again.');
      threadTs = root;
    }
    const dedupeKey = meta.threadTs ? `slack:${meta.channel}:${meta.threadTs}` : `slack:view:${view.id}`;
    await startRun(ctx, { request: result.request, plan: result.plan, user, channel: meta.channel, threadTs, replyTs: meta.replyTs, dedupeKey });
  });
}

interface RunStart {
  request: DeployRequest;
  plan: DeployPlan;
  user: string;
  channel: string;
  threadTs: string;
  replyTs?: string;
  dedupeKey: string;
}

/** Why `user` may not deploy to `environment` from `channel`, or undefined when they may. */
async function deployRefusal(ctx: SlackContext, user: string, channelId: string, environment: DeployPlan['environment']): Promise<string | undefined> {
  const [actor, channel] = await Promise.all([ctx.people.actor(user), ctx.channels.ref(channelId)]);
  const may = mayDeploy(actor, channel, environment, ctx.config);
  return may.ok ? undefined : `🚫 ${may.reason}`;
}

async function startRun(ctx: SlackContext, s: RunStart): Promise<void> {
  const refusal = await deployRefusal(ctx, s.user, s.channel, s.plan.environment);
  if (refusal) return tellPrivately(ctx, s.channel, s.user, refusal, s.threadTs);
  const actor = await ctx.people.actor(s.user);
  let plan = s.plan;
  if (plan.guidance && ctx.llm?.enabled && ctx.llm.adjustPlan) {
    const adjusted = await ctx.llm.adjustPlan(plan, plan.guidance, ctx.config);
    if (adjusted.changes.length) {
      plan = adjusted.plan;
      await replyInThread(ctx, s.channel, s.threadTs, `📝 From the guidance: ${adjusted.changes.map((c) => `${c.field} ${String(c.from)} → ${String(c.to)} (${c.reason})`).join('; ').slice(0, 2500)} · ${adjusted.note}`);
    }
  }
  const result = await ctx.runs.start({ request: s.request, plan, requester: actor, channel: s.channel, threadTs: s.threadTs, dedupeKey: s.dedupeKey });
  if (!result.ok) {
    await tellPrivately(ctx, s.channel, s.user, `⚠️ ${result.message}`, s.threadTs);
    return;
  }
  if (s.replyTs) {
    await ctx.client.chat
      .update({ channel: s.channel, ts: s.replyTs, ...requestClosed(s.request, `Started by <@${s.user}> · run \`${result.run.id}\``) })
      .catch((err: unknown) => ctx.logger.debug({ err: errorCode(err) }, 'could not close the request reply'));
  }
}
