// The deploy modal's own interactions: changing the risk level re-derives the dependent
// defaults (views.update); submitting answers either comes back with inline errors on the
// fields (response_action: errors) or closes the form and starts the run.
import type { App, BlockAction } from '@slack/bolt';
import { DeployRequest, RiskLevel } from '../../domain/types.js';
import {
  decodeMetadata,
  deployModal,
  errorsForView,
  MODAL_CALLBACK,
  readFields,
  RISK_ACTION,
  type SlackView,
  type StateValues,
} from '../blocks/modal.js';
import { errorCode, replyInThread, tellPrivately, type SlackContext } from '../context.js';
import { answersFromFields, modalFor, planFromModal, withRisk } from '../planning.js';
import { scheduleRun } from '../schedule.js';
import { deployRefusal, startRun } from '../start-run.js';

export function registerModalListeners(app: App, ctx: SlackContext): void {
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
      await ctx.client.views.update({
        view_id: view.id,
        hash: view.hash,
        view: deployModal({ ...base, answers, metadata: meta }) as unknown as SlackView,
      });
    } catch (err) {
      // hash_conflict: the person changed something meanwhile; their newer change wins.
      ctx.logger.debug({ err: errorCode(err) }, 'views.update after a risk change failed');
    }
  });

  app.view(MODAL_CALLBACK, async ({ ack, view, body }) => {
    const meta = decodeMetadata(view.private_metadata);
    const values = view.state.values as StateValues;
    if (!meta) {
      await ack({
        response_action: 'errors',
        errors: errorsForView({ guidance: 'This form is from an older Shipbot; close it and ask again.' }, values),
      });
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
    // Asked before the run's thread is posted, so a person who may not deploy here gets no thread;
    // the start's admission is still the check that counts.
    const refusal = await deployRefusal(ctx, user, meta.channel, result.plan.environment);
    if (refusal) return tellPrivately(ctx, meta.channel, user, refusal, threadTs || undefined);
    if (!threadTs) {
      // From /deploy: the run gets a thread of its own.
      const root = await replyInThread(
        ctx,
        meta.channel,
        '',
        `<@${user}> is deploying *${result.plan.service} ${result.plan.version}* to *${result.plan.environment}*`,
      );
      if (!root)
        return tellPrivately(
          ctx,
          meta.channel,
          user,
          '⚠️ I could not post in this channel. Invite me with `/invite @shipbot` and try again.',
        );
      threadTs = root;
    }
    if (result.request.scheduledAt && ctx.scheduling) {
      await scheduleRun(ctx, {
        request: result.request,
        plan: result.plan,
        user,
        channel: meta.channel,
        threadTs,
        ...(meta.replyTs ? { replyTs: meta.replyTs } : {}),
      });
      return;
    }
    const dedupeKey = meta.threadTs ? `slack:${meta.channel}:${meta.threadTs}` : `slack:view:${view.id}`;
    await startRun(ctx, {
      request: result.request,
      plan: result.plan,
      user,
      channel: meta.channel,
      threadTs,
      replyTs: meta.replyTs,
      dedupeKey,
    });
  });
}
