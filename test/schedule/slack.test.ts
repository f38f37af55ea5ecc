// Scheduling from Slack, through signed HTTP into the Bolt app and the Slack double: a request
// with a time gets *Schedule*, pressing it books the deploy; `schedules` lists, `cancel schedule`
// cancels (the requester, not a stranger); when due, a tick starts the run in the same thread.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { readEnv } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { createRunner, type Runner } from '../../src/runner/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createScheduler, schedulingFor, type Scheduler } from '../../src/schedule/index.js';
import { createSlackApp, type SlackApp } from '../../src/slack/app.js';
import { parseScheduleCommand } from '../../src/slack/schedule.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { openStore, ScheduleStore, type SqliteStore } from '../../src/store/index.js';
import { actionIds, textOf, waitFor } from '../slack/harness.js';
import { JumpClock, MIN, SHIPPED } from './world.js';

let double: SlackDouble;
let slack: SlackApp;
let runner: Runner;
let store: SqliteStore;
let schedules: ScheduleStore;
let sandbox: Sandbox;
let scheduler: Scheduler;
let dir: string;
const clock = new JumpClock(new ScaledClock(1));

beforeAll(async () => {
  const config = SHIPPED;
  sandbox = await startSandbox({ clock: new ScaledClock(60), demo: true, config });
  dir = mkdtempSync(path.join(tmpdir(), 'shipbot-schedule-slack-'));
  store = openStore(path.join(dir, 'shipbot.db'));
  schedules = new ScheduleStore(store.sql);
  const logger = createLogger('silent');
  runner = createRunner({
    store,
    config,
    clock,
    kube: kubeFromKubeconfig(sandbox.kubeconfigYaml()),
    metrics: new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch }),
    logger,
    reportsDir: path.join(dir, 'reports'),
  });
  double = await startSlackDouble({});
  const env = readEnv({
    SLACK_BOT_TOKEN: double.botToken,
    SLACK_SIGNING_SECRET: double.signingSecret,
    SLACK_API_URL: double.apiUrl,
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
  slack = createSlackApp({
    env,
    config,
    runner,
    logger,
    scheduling: schedulingFor({ store, schedules, clock, config }),
    now: () => new Date(clock.now()),
  });
  const { port } = await slack.start();
  double.connect(`http://127.0.0.1:${port}/slack/events`);
  // What main.ts would pass: a Slack poster on the bot token.
  const client = new WebClient(double.botToken, { slackApiUrl: double.apiUrl });
  scheduler = createScheduler({
    store,
    schedules,
    runner,
    config,
    clock,
    logger,
    post: async (channel, text, threadTs) =>
      void (await client.chat.postMessage({ channel, text, ...(threadTs ? { thread_ts: threadTs } : {}) })),
  });
});
afterAll(async () => {
  await slack?.stop();
  await runner?.close();
  await double?.close();
  await sandbox?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const botReplies = (threadTs: string) => double.messages('deploys', threadTs).filter((m) => m.botId && m.ts !== threadTs);
/** A time two hours from now on the clock, as `HH:MM` (UTC). */
const inTwoHours = () => new Date(clock.now() + 120 * MIN).toISOString().slice(11, 16);

async function bookFromSlack(text: string): Promise<{ id: string; threadTs: string }> {
  const sent = await double.postUserMessage('U_DEV', 'deploys', text);
  const reply = await waitFor('the request reply', () => botReplies(sent.ts)[0]);
  expect(actionIds(reply)).toEqual(['req_configure', 'req_schedule', 'req_start', 'req_cancel']);
  expect(textOf(reply)).toContain('*Schedule* books it');
  await double.driver.clickButton('U_DEV', reply.ts, 'req_schedule');
  const closed = await waitFor('the reply to say it is scheduled', () => {
    const m = botReplies(sent.ts).find((x) => x.ts === reply.ts);
    return m && /Scheduled by/.test(textOf(m)) ? m : undefined;
  });
  expect(actionIds(closed)).toEqual([]); // nothing left to press twice
  const id = /`(s-[a-z0-9]+)`/.exec(textOf(closed))?.[1];
  if (!id) throw new Error(`no schedule id in: ${textOf(closed)}`);
  return { id, threadTs: sent.ts };
}

describe('scheduling from Slack', () => {
  it('books with Schedule, lists, refuses a stranger, and cancels for the requester', async () => {
    const { id, threadTs } = await bookFromSlack(`deploy payments v3.1.0 canary high risk at ${inTwoHours()}`);
    expect(new Set((await schedulingFor({ store, schedules, clock, config: SHIPPED }).describe()).match(/s-[a-z0-9]+/g))).toContain(id);

    const list = await double.postUserMessage('U_DEV', 'deploys', 'schedules');
    expect(textOf(await waitFor('the list', () => botReplies(list.ts)[0]))).toMatch(new RegExp(`${id}.*payments v3\\.1\\.0 to production`));

    const ephemerals = double.calls('chat.postEphemeral').length;
    await double.postUserMessage('U_OTHER', 'deploys', `cancel schedule ${id}`, { threadTs });
    await waitFor('a private refusal', () => double.calls('chat.postEphemeral').length > ephemerals);
    expect(JSON.stringify(double.calls('chat.postEphemeral').at(-1))).toContain(`Only alice (U_DEV)`);

    await double.postUserMessage('U_DEV', 'deploys', `cancel schedule ${id}`, { threadTs });
    await waitFor('the cancel answer', () => botReplies(threadTs).find((m) => textOf(m).includes(`Cancelled ${id}`)));
    expect(await schedulingFor({ store, schedules, clock, config: SHIPPED }).describe()).not.toContain(id);
  });

  it('a booked deploy starts in its thread when a tick finds it due', async () => {
    const { id, threadTs } = await bookFromSlack(`deploy checkout v1.3.0 canary high risk at ${inTwoHours()}`);
    expect((await scheduler.tick()).started).toEqual([]);
    clock.advance(125 * MIN);
    const tick = await scheduler.tick();
    expect(tick.started.map((s) => s.scheduleId)).toEqual([id]);
    const run = (await runner.get(tick.started[0]!.runId))!;
    expect(run).toMatchObject({
      service: 'checkout',
      phase: { status: 'pending-approval' },
      origin: { kind: 'slack', channel: 'C0DEPLOYS', threadTs },
    });
    // The Slack front end follows the run into the thread with its progress message.
    await waitFor('a progress message in the thread', () =>
      botReplies(threadTs).find((m) => textOf(m).includes('v1.3.0') && !textOf(m).includes('Scheduled by')),
    );
  });
});

describe('parseScheduleCommand', () => {
  it('reads list, cancel and override, and nothing else', () => {
    expect(parseScheduleCommand('<@U0SHIPBOT> schedules')).toEqual({ kind: 'list' });
    expect(parseScheduleCommand('cancel schedule S-AB12')).toEqual({ kind: 'cancel', id: 's-ab12' });
    expect(parseScheduleCommand('override freeze s-ab12 because INC-42 hotfix')).toEqual({
      kind: 'override',
      id: 's-ab12',
      reason: 'INC-42 hotfix',
    });
    expect(parseScheduleCommand('cancel checkout')).toBeUndefined();
    expect(parseScheduleCommand('deploy checkout v1 at 02:00')).toBeUndefined();
  });
});
