// How the app connects: readable errors without tokens; Socket Mode chosen by SLACK_APP_TOKEN
// (constructed, not connected: there is no Socket Mode server here).
import { Writable } from 'node:stream';
import { SocketModeReceiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createSlackApp } from '../../src/slack/app.js';
import type { SlackRunner } from '../../src/slack/deps.js';
import { startSlackDouble } from '../../src/slack/double/index.js';
import { shippedConfig, startHarness, waitFor } from './harness.js';

const logger = createLogger('silent');
// createSlackApp only subscribes to the runner on start(); nothing here starts it.
const runner = {} as SlackRunner;

describe('createSlackApp', () => {
  it('says what to set when the bot token is missing', () => {
    expect(() => createSlackApp({ env: readEnv({}), config: shippedConfig, runner, logger })).toThrow(
      /SLACK_BOT_TOKEN is not set.*manifest\.yml/,
    );
  });

  it('says how Slack can reach it when neither Socket Mode nor a signing secret is configured', () => {
    expect(() => createSlackApp({ env: readEnv({ SLACK_BOT_TOKEN: 'xoxb-1' }), config: shippedConfig, runner, logger })).toThrow(
      /SLACK_APP_TOKEN.*SLACK_SIGNING_SECRET/,
    );
  });

  it('never writes the bot token or the signing secret to its logs, even at trace level', async () => {
    let logs = '';
    const sink = new Writable({
      write(chunk, _enc, done) {
        logs += String(chunk);
        done();
      },
    });
    const h = await startHarness({ logger: createLogger('trace', sink) });
    try {
      const sent = await h.double.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy checkout v1.2.3');
      await waitFor('the reply', () => h.double.messages('deploys', sent.ts).find((m) => m.botId && m.ts !== sent.ts));
      await h.double.driver.sendRaw('{}', {
        'content-type': 'application/json',
        'x-slack-signature': 'v0=bad',
        'x-slack-request-timestamp': '1',
      });
    } finally {
      await h.close();
    }
    expect(logs.length).toBeGreaterThan(1000);
    expect(logs).toContain('chat.postMessage');
    expect(logs).not.toContain(h.double.botToken);
    expect(logs).not.toContain(h.double.signingSecret);
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set, opening the connection through SLACK_API_URL', async () => {
    const double = await startSlackDouble();
    try {
      const env = readEnv({ SLACK_BOT_TOKEN: double.botToken, SLACK_APP_TOKEN: 'xapp-1-unknown', SLACK_API_URL: double.apiUrl });
      const slack = createSlackApp({
        env,
        config: shippedConfig,
        runner: { subscribe: () => () => undefined } as unknown as SlackRunner,
        logger,
      });
      expect((slack.app as unknown as { receiver: unknown }).receiver).toBeInstanceOf(SocketModeReceiver);
      // The double has no Socket Mode: it refuses the app token, as Slack does for a wrong one.
      await expect(slack.start()).rejects.toThrow(/invalid_auth/);
      expect(double.calls('apps.connections.open')).toHaveLength(1);
      await slack.stop().catch(() => undefined);
    } finally {
      await double.close();
    }
  });
});
