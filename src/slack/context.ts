// What every listener gets: the dependencies, the Web API client, caches, and small helpers
// for answering in a thread or privately.
import type { WebClient } from '@slack/web-api';
import type { ShipbotConfig } from '../config.js';
import type { Logger } from '../log.js';
import { SeenSet, type SeenStore } from './dedupe.js';
import type { Scheduling } from '../schedule/index.js';
import type { SlackLlm, SlackRunner } from './deps.js';
import { Channels, People } from './people.js';
import { retryRateLimited } from './post.js';
import type { SlackRuns } from './runs.js';

export interface SlackContext {
  config: ShipbotConfig;
  runner: SlackRunner;
  logger: Logger;
  llm?: SlackLlm;
  /** Booking, listing and cancelling scheduled deploys, when main wired the scheduler. */
  scheduling?: Scheduling;
  now: () => Date;
  client: WebClient;
  people: People;
  channels: Channels;
  runs: SlackRuns;
  /** Requests already handled (channel:ts), against duplicate and retried events. */
  seen: SeenSet;
}

export function createContext(base: Omit<SlackContext, 'people' | 'channels' | 'seen'>, seenStore?: SeenStore): SlackContext {
  return {
    ...base,
    people: new People(base.client, base.logger),
    channels: new Channels(base.client, base.logger),
    seen: new SeenSet(undefined, undefined, seenStore),
  };
}

type Message = { text: string; blocks?: Array<Record<string, unknown>> };

/** Posts in the thread (or, with an empty `threadTs`, as a new message that starts one). */
export async function replyInThread(
  ctx: SlackContext,
  channel: string,
  threadTs: string,
  msg: Message | string,
): Promise<string | undefined> {
  const m = typeof msg === 'string' ? { text: msg } : msg;
  try {
    const res = await retryRateLimited(() => ctx.client.chat.postMessage({ channel, ...(threadTs ? { thread_ts: threadTs } : {}), ...m }));
    return res.ts;
  } catch (err) {
    ctx.logger.warn({ err: errorCode(err), channel }, 'could not reply in the thread');
    return undefined;
  }
}

/** Edits one of Shipbot's messages (not the progress message, which has its own pacing). */
export async function editMessage(ctx: SlackContext, channel: string, ts: string, msg: Message): Promise<void> {
  try {
    await retryRateLimited(() => ctx.client.chat.update({ channel, ts, ...msg }));
  } catch (err) {
    ctx.logger.warn({ err: errorCode(err), channel }, 'could not edit a message');
  }
}

/** Only `user` sees it: refusals, "already done", expired forms. */
export async function tellPrivately(ctx: SlackContext, channel: string, user: string, text: string, threadTs?: string): Promise<void> {
  try {
    await retryRateLimited(() => ctx.client.chat.postEphemeral({ channel, user, text, ...(threadTs ? { thread_ts: threadTs } : {}) }));
  } catch (err) {
    ctx.logger.warn({ err: errorCode(err), channel, user }, 'could not send an ephemeral message');
  }
}

/** Slack's error code (`expired_trigger_id`) or the message. */
export function errorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}
