// Runs seen from Slack: starting one from a thread (with its progress message), following the
// runner's events into that message, and at the end the thread summary and the broadcast.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { WebClient } from '@slack/web-api';
import type { ShipbotConfig } from '../config.js';
import type { ChannelRef } from '../domain/permissions.js';
import type { Actor, DeployPlan, DeployRequest } from '../domain/types.js';
import type { Logger } from '../log.js';
import { reportUrl } from '../reports/page.js';
import { FINAL_STATUSES, type RunEvent, type RunView, type StartResult, reportPathOf } from '../domain/run.js';
import { actions, button, section, type Block } from './blocks/kit.js';
import { progressMessage } from './blocks/progress.js';
import { encodeRequest, REQUEST_ACTIONS } from './blocks/request.js';
import { broadcastMessage, summaryMessage } from './blocks/report.js';
import type { SlackRunner } from './deps.js';
import { postReliably, retryRateLimited } from './post.js';
import { ProgressUpdater } from './progress.js';
import type { QueueOptions } from './progress-queue.js';

export interface StartFromSlack {
  request: DeployRequest;
  plan: DeployPlan;
  requester: Actor;
  channel: string;
  /** The channel as deploy roles name it (its id and name): admission checks the requester there. */
  where?: ChannelRef;
  threadTs: string;
  /** The same key starts one run, however often Start is pressed. */
  dedupeKey: string;
  /** Book it behind the lock (it starts when the lock is released) instead of refusing. */
  queueIfLocked?: boolean;
}

export class SlackRuns {
  readonly progress: ProgressUpdater;
  private summarised = new Set<string>();
  private posting = new Map<string, Promise<void>>();
  private readonly restartsTold = new Set<string>();
  /** Runner-clock moment this process started: the restarts it made are the ones after it. */
  private readonly startedAt: number;
  private unsubscribe?: () => void;
  /** Until listen(): the latest view of each Slack run that changed (Slack not reachable yet). */
  private missed? = new Map<string, RunView>();

  constructor(
    private readonly deps: {
      client: WebClient;
      progressClient: WebClient;
      runner: SlackRunner;
      config: ShipbotConfig;
      logger: Logger;
      queue?: Partial<QueueOptions>;
      /** Restart notes from this moment on (runner clock) are this process's to tell; earlier ones were told. */
      restartsSince?: number;
      /** The runner clock's speed: durations in the summary are said in wall-clock time. */
      clockSpeed?: number;
      /** SHIPBOT_PUBLIC_URL: messages link the report's page instead of attaching its file. */
      publicUrl?: string;
    },
  ) {
    this.progress = new ProgressUpdater({ client: deps.progressClient, logger: deps.logger, queue: deps.queue });
    this.startedAt = deps.restartsSince ?? 0;
    // Runs go on while Slack cannot be reached at start: what they did is kept for listen().
    this.unsubscribe = deps.runner.subscribe((ev) => {
      if (ev.type === 'run-updated' && ev.run.origin.kind === 'slack') this.missed?.set(ev.run.id, ev.run);
    });
  }

  /** Starts following runs in Slack; the messages of runs that changed before it catch up first. */
  listen(): void {
    this.unsubscribe?.();
    const missed = [...(this.missed?.values() ?? [])];
    this.missed = undefined;
    this.unsubscribe = this.deps.runner.subscribe((ev) => this.onEvent(ev));
    for (const run of missed) this.onEvent({ type: 'run-updated', run, important: true });
  }

  stop(): void {
    this.unsubscribe?.();
    this.progress.stop();
  }

  /**
   * Posts the progress message, then starts the run with it as the run's origin. A refusal
   * replaces that message (`toldInThread`), so the thread says it once.
   */
  async start(s: StartFromSlack): Promise<StartResult & { toldInThread?: boolean }> {
    const { client, runner, logger } = this.deps;
    const placeholder = await postReliably(
      client,
      { channel: s.channel, thread_ts: s.threadTs, text: `⏳ Starting ${s.plan.service} ${s.plan.version} → ${s.plan.environment}…` },
      logger,
    );
    let result: StartResult;
    try {
      result = await runner.start({
        request: s.request,
        plan: s.plan,
        requester: s.requester,
        origin: { kind: 'slack', channel: s.channel, threadTs: s.threadTs, ...(placeholder ? { progressTs: placeholder } : {}) },
        dedupeKey: s.dedupeKey,
        ...(s.queueIfLocked ? { queueIfLocked: true } : {}),
        ...(s.where ? { channel: s.where } : {}),
      });
    } catch (err) {
      logger.error({ err }, 'runner.start failed');
      result = {
        ok: false,
        reason: 'invalid',
        message: `Shipbot could not start the run (${(err as Error).message}). Nothing was deployed; check Shipbot's log.`,
      };
    }
    if (!result.ok) {
      if (!placeholder) return result;
      // Who may not deploy is told privately: the thread keeps no trace of the attempt.
      if (result.reason === 'forbidden') {
        await client.chat.delete({ channel: s.channel, ts: placeholder }).catch(() => undefined);
        return result;
      }
      // Locked: the refusal offers to book the request behind the lock.
      const queue =
        result.reason === 'locked'
          ? [actions(`queue:${s.threadTs}`, [button('Queue behind it', REQUEST_ACTIONS.queue, encodeRequest(s.request))])]
          : [];
      await this.safeUpdate(s.channel, placeholder, `❌ Not started: ${result.message}`, queue);
      return { ...result, toldInThread: true };
    }
    const run = result.run;
    const origin = run.origin.kind === 'slack' ? run.origin : undefined;
    if (placeholder && origin?.progressTs && origin.progressTs !== placeholder) {
      // The same request already started a run: keep its message, drop ours.
      await client.chat.delete({ channel: s.channel, ts: placeholder }).catch(() => undefined);
    }
    const ts = origin?.progressTs ?? placeholder;
    if (ts && !this.progress.target(run.id)) this.progress.track(run.id, { channel: origin?.channel ?? s.channel, ts });
    this.onEvent({ type: 'run-updated', run: (await runner.get(run.id)) ?? run, important: true });
    return result;
  }

  private onEvent(ev: RunEvent): void {
    if (ev.type !== 'run-updated' || ev.run.origin.kind !== 'slack') return;
    const run = ev.run;
    const origin = ev.run.origin;
    if (!this.progress.target(run.id)) {
      if (origin.progressTs) this.progress.track(run.id, { channel: origin.channel, ts: origin.progressTs });
      else {
        // A run from Slack without a progress message yet (resumed, or started elsewhere): post one.
        this.ensurePosted(run);
        return;
      }
    }
    this.progress.offer(run, ev.important);
    this.noteRestart(run);
    if (FINAL_STATUSES.has(run.phase.status)) void this.finish(run);
  }

  /** Once per restart of this process: a line in the thread that Shipbot restarted and what it did with the run. */
  private noteRestart(run: RunView): void {
    const last = run.restarts?.at(-1);
    // Earlier restarts were told by the process that made them.
    if (!last || last.at < this.startedAt || run.origin.kind !== 'slack' || this.restartsTold.has(`${run.id}:${last.at}`)) return;
    this.restartsTold.add(`${run.id}:${last.at}`);
    void postReliably(
      this.deps.client,
      { channel: run.origin.channel, thread_ts: run.origin.threadTs, text: `↻ ${last.note}.` },
      this.deps.logger,
    );
  }

  private ensurePosted(run: RunView): void {
    if (run.origin.kind !== 'slack' || this.posting.has(run.id)) return;
    const origin = run.origin;
    const p = postReliably(
      this.deps.client,
      { channel: origin.channel, thread_ts: origin.threadTs, ...progressMessage(run) },
      this.deps.logger,
    ).then(async (ts) => {
      if (!ts) return;
      this.progress.track(run.id, { channel: origin.channel, ts });
      const latest = (await this.deps.runner.get(run.id)) ?? run;
      this.progress.offer(latest, true);
      if (FINAL_STATUSES.has(latest.phase.status)) void this.finish(latest);
    });
    this.posting.set(run.id, p);
  }

  /** Once per run: the summary in the thread, the report as a file in the thread, and the broadcast to the stakeholder channel. */
  private async finish(run: RunView): Promise<void> {
    // Keyed by status too: a stopped run that is later rolled back gets a summary of that as well.
    const key = `${run.id}:${run.phase.status}`;
    if (this.summarised.has(key) || run.origin.kind !== 'slack') return;
    this.summarised.add(key);
    const { client, config, logger } = this.deps;
    const origin = run.origin;
    const link = this.deps.publicUrl && reportPathOf(run) ? reportUrl(this.deps.publicUrl, run.id) : undefined;
    await postReliably(
      client,
      {
        channel: origin.channel,
        thread_ts: origin.threadTs,
        ...summaryMessage(run, { clockSpeed: this.deps.clockSpeed, reportUrl: link }),
      },
      logger,
    );
    if (reportPathOf(run) && !link) await this.shareReport(run, origin.channel, origin.threadTs);
    const stakeholder = config.channels.stakeholder;
    if (stakeholder) await postReliably(client, { channel: stakeholder, ...broadcastMessage(run, origin.channel, link) }, logger);
  }

  /** The Markdown report, attached to the thread so people in Slack can read it (needs files:write). */
  private async shareReport(run: RunView, channel: string, threadTs: string): Promise<void> {
    try {
      const content = await readFile(reportPathOf(run)!, 'utf8');
      await this.deps.client.files.uploadV2({
        channel_id: channel,
        thread_ts: threadTs,
        content,
        filename: path.basename(reportPathOf(run)!),
        title: `Deployment report: ${run.service} ${run.version} → ${run.environment}`,
      });
    } catch (err) {
      const e = err as { data?: { error?: string }; message?: string };
      this.deps.logger.warn(
        { err: e, slackError: e.data?.error, runId: run.id },
        'could not share the report in Slack (is files:write granted?); it is on disk',
      );
    }
  }

  private async safeUpdate(channel: string, ts: string, text: string, extra: Block[] = []): Promise<void> {
    try {
      const msg: { text: string; blocks: Block[] } = { text, blocks: extra.length ? [section(text), ...extra] : [] };
      await retryRateLimited(() => this.deps.client.chat.update({ channel, ts, ...msg }));
    } catch (err) {
      this.deps.logger.warn({ err }, 'could not update the progress message');
    }
  }
}
