// The buttons on a progress message: Rollback, Accept, Approve, Cancel go to the runner, which
// checks the role and acts once however often they are pressed; the thread says who pressed
// what. Investigate posts diagnostics in the thread.
import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { RunCommand } from '../../domain/run.js';
import { RUN_ACTIONS, runTitle } from '../blocks/progress.js';
import { diagnosticsMarkdown } from '../../reports/investigate.js';
import { investigateMessage } from '../blocks/investigate.js';
import { editMessage, errorCode, replyInThread, tellPrivately, type SlackContext } from '../context.js';
import { summaryMessage } from '../blocks/report.js';

const PRESSED: Record<Exclude<RunCommand, 'investigate'>, string> = {
  rollback: '↩️ pressed *Rollback*',
  accept: '✅ pressed *Accept*',
  approve: '👍 approved',
  cancel: '🚫 pressed *Cancel*',
  pause: '⏸️ pressed *Pause*',
  resume: '▶️ pressed *Resume*',
  promote: '⏩ pressed *Promote*',
};

const COMMANDS: Array<[RunCommand, string]> = [
  ['rollback', RUN_ACTIONS.rollback],
  ['accept', RUN_ACTIONS.accept],
  ['approve', RUN_ACTIONS.approve],
  ['cancel', RUN_ACTIONS.cancel],
  ['resume', RUN_ACTIONS.resume],
  ['investigate', RUN_ACTIONS.investigate],
];

export function registerRunListeners(app: App, ctx: SlackContext): void {
  // Unlock on a rollback's summary: lifts only the lock that run kept, permission-checked by the runner.
  app.action<BlockAction<ButtonAction>>(RUN_ACTIONS.unlock, async ({ ack, body, action }) => {
    await ack();
    const channel = body.channel?.id ?? body.container?.channel_id;
    const user = body.user.id;
    const run = await ctx.runner.get(action.value ?? '');
    if (!channel) return;
    const threadTs =
      run?.origin.kind === 'slack' ? run.origin.threadTs : ((body.message?.thread_ts as string | undefined) ?? body.message?.ts);
    if (!run) return tellPrivately(ctx, channel, user, `I can't find run \`${action.value}\` any more.`, threadTs);
    const actor = await ctx.people.actor(user, body.user.name);
    const res = await ctx.runner.unlock(run.service, run.environment, actor, `checked after run ${run.id}`, run.id);
    if (!res.ok) return tellPrivately(ctx, channel, user, `🚫 ${res.message}`, threadTs);
    // Done (now or before): the summary keeps no Unlock to press again.
    const summaryTs = body.message?.ts;
    if (summaryTs) await editMessage(ctx, channel, summaryTs, summaryMessage((await ctx.runner.get(run.id)) ?? run, { unlocked: true }));
    if (!res.acted) return tellPrivately(ctx, channel, user, `Already done: ${res.message}.`, threadTs);
    if (threadTs)
      await replyInThread(ctx, channel, threadTs, `🔓 <@${user}> unlocked ${run.service} in ${run.environment}: new deploys can start.`);
  });

  for (const [cmd, actionId] of COMMANDS) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action }) => {
      await ack();
      const channel = body.channel?.id ?? body.container?.channel_id;
      const user = body.user.id;
      const runId = action.value ?? '';
      const run = await ctx.runner.get(runId);
      if (!channel) return;
      const threadTs =
        run?.origin.kind === 'slack' ? run.origin.threadTs : ((body.message?.thread_ts as string | undefined) ?? body.message?.ts);
      if (!run) return tellPrivately(ctx, channel, user, `I can't find run \`${runId}\` any more; it may have been removed.`, threadTs);
      const actor = await ctx.people.actor(user, body.user.name);
      if (cmd === 'investigate') return investigate(ctx, runId, actor, channel, user, threadTs);
      let res: Awaited<ReturnType<typeof ctx.runner.command>>;
      try {
        res = await ctx.runner.command(runId, cmd, actor);
      } catch (err) {
        ctx.logger.error({ err: errorCode(err), runId, cmd }, 'runner.command failed');
        return tellPrivately(
          ctx,
          channel,
          user,
          `⚠️ ${cmd} failed inside Shipbot (${errorCode(err)}). Press it again; if it keeps failing, act on the cluster directly.`,
          threadTs,
        );
      }
      if (!res.ok) return tellPrivately(ctx, channel, user, `🚫 ${res.message}`, threadTs);
      if (!res.acted) return tellPrivately(ctx, channel, user, `Already done: ${res.message}`, threadTs);
      if (threadTs) await replyInThread(ctx, channel, threadTs, `<@${user}> ${PRESSED[cmd]} on ${runTitle(run)}: ${res.message}`);
    });
  }
}

async function investigate(
  ctx: SlackContext,
  runId: string,
  actor: Awaited<ReturnType<SlackContext['people']['actor']>>,
  channel: string,
  user: string,
  threadTs: string | undefined,
): Promise<void> {
  let diagnostics: Awaited<ReturnType<typeof ctx.runner.investigate>>;
  try {
    diagnostics = await ctx.runner.investigate(runId, actor);
  } catch (err) {
    return tellPrivately(ctx, channel, user, `⚠️ Investigate failed: ${errorCode(err)}. Try again in a moment.`, threadTs);
  }
  const run = await ctx.runner.get(runId);
  if (!run) return tellPrivately(ctx, channel, user, `I can't find run \`${runId}\` any more.`, threadTs);
  await replyInThread(ctx, channel, threadTs ?? '', investigateMessage(run, diagnostics));
  // Everything collected, as a file in the thread: the briefing stays short.
  try {
    await ctx.client.files.uploadV2({
      channel_id: channel,
      thread_ts: threadTs ?? '',
      content: diagnosticsMarkdown(run, diagnostics),
      filename: `${run.id}-diagnostics.md`,
      title: `Diagnostics: ${runTitle(run)}`,
    });
  } catch (err) {
    ctx.logger.warn({ err: errorCode(err), runId }, 'could not attach the diagnostics file (is files:write granted?)');
  }
  // A reading of the facts by Claude follows when a key is configured; the rules' reading would repeat the briefing.
  if (ctx.llm?.enabled && ctx.llm.investigate) {
    const reading = await ctx.llm.investigate(diagnostics);
    const next = reading.nextSteps.length ? `\nNext: ${reading.nextSteps.map((s) => `• ${s}`).join('\n')}` : '';
    await replyInThread(
      ctx,
      channel,
      threadTs ?? '',
      `🧭 ${reading.summary}\n*Likely cause:* ${reading.likelyCause}${next}\n_${reading.note}_`.slice(0, 3000),
    );
  }
}
