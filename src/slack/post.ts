// Posting that must not be lost to a rate limit (replies, summaries, broadcasts, the progress
// message itself): honours Retry-After a few times instead of giving up on the first 429.
// The Web API clients reject rate-limited calls (so one 429 does not pause every other call);
// this is where a caller that can wait chooses to.
import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';

export async function retryRateLimited<T>(call: () => Promise<T>, attempts = 4): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number };
      if (e.code !== 'slack_webapi_rate_limited_error' || i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, Math.max(0, e.retryAfter ?? 1) * 1000));
    }
  }
}

export async function postReliably(
  client: WebClient,
  args: ChatPostMessageArguments,
  logger: Logger,
  attempts = 4,
): Promise<string | undefined> {
  try {
    const res = await retryRateLimited(() => client.chat.postMessage(args), attempts);
    return res.ts;
  } catch (err) {
    const e = err as { data?: { error?: string } };
    logger.warn({ err, slackError: e.data?.error, channel: args.channel }, 'could not post to Slack');
    return undefined;
  }
}
