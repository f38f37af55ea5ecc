// Posting that must not be lost to a rate limit (summaries, broadcasts, the progress message
// itself): honours Retry-After a few times instead of giving up on the first 429.
import type { ChatPostMessageArguments, WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';

export async function postReliably(client: WebClient, args: ChatPostMessageArguments, logger: Logger, attempts = 4): Promise<string | undefined> {
  for (let i = 1; ; i++) {
    try {
      const res = await client.chat.postMessage(args);
      return res.ts;
    } catch (err) {
      const e = err as { code?: string; retryAfter?: number; data?: { error?: string } };
      if (e.code === 'slack_webapi_rate_limited_error' && i < attempts) {
        await new Promise((r) => setTimeout(r, Math.max(0, e.retryAfter ?? 1) * 1000));
        continue;
      }
      logger.warn({ err: e.data?.error ?? (err as Error).message, channel: args.channel }, 'could not post to Slack');
      return undefined;
    }
  }
}
