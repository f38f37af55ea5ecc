// How the app connects: readable errors without tokens; Socket Mode chosen by SLACK_APP_TOKEN
// (constructed, not connected: there is no Socket Mode server here).
import { SocketModeReceiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { readEnv } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createSlackApp } from '../../src/slack/app.js';
import type { SlackRunner } from '../../src/slack/deps.js';
import { shippedConfig } from './harness.js';

const logger = createLogger('silent');
// createSlackApp only subscribes to the runner on start(); nothing here starts it.
const runner = {} as SlackRunner;

describe('createSlackApp', () => {
  it('says what to set when the bot token is missing', () => {
    expect(() => createSlackApp({ env: readEnv({}), config: shippedConfig, runner, logger })).toThrow(/SLACK_BOT_TOKEN is not set.*manifest\.yml/);
  });

  it('says how Slack can reach it when neither Socket Mode nor a signing secret is configured', () => {
    expect(() => createSlackApp({ env: readEnv({ SLACK_BOT_TOKEN: 'xoxb-1' }), config: shippedConfig, runner, logger })).toThrow(/SLACK_APP_TOKEN.*SLACK_SIGNING_SECRET/);
  });

  it('uses Socket Mode when SLACK_APP_TOKEN is set', () => {
    const slack = createSlackApp({ env: readEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }), config: shippedConfig, runner, logger });
    expect((slack.app as unknown as { receiver: unknown }).receiver).toBeInstanceOf(SocketModeReceiver);
  });
});
