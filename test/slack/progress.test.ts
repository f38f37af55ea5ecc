// The progress updater against the Slack double: coalesced edits, one shared chat.update
// budget with important changes first, and 429 Retry-After honoured so the final state arrives.
import { phaseFor } from '../helpers/plan.js';
import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import type { RunStatus, RunView } from '../../src/domain/run.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { ProgressUpdater } from '../../src/slack/progress.js';
import { planFromRequest } from '../../src/slack/planning.js';
import { shippedConfig, textOf } from './harness.js';

let double: SlackDouble;
let client: WebClient;
const logger = createLogger('silent');

beforeAll(async () => {
  double = await startSlackDouble();
  client = new WebClient(double.botToken, { slackApiUrl: double.apiUrl, rejectRateLimitedCalls: true, retryConfig: { retries: 0 } });
});
afterAll(async () => {
  await double?.close();
});

const planned = planFromRequest(
  {
    intent: 'deploy',
    service: 'checkout',
    version: 'v1.2.3',
    environment: 'production',
    focus: [],
    missing: [],
    suggestions: [],
    notes: [],
  },
  shippedConfig,
);
if (!planned.ok) throw new Error(planned.message);
const plan = planned.plan;

function run(id: string, status: RunStatus, stage: string): RunView {
  return {
    id,
    service: 'checkout',
    environment: 'production',
    version: 'v1.2.3',
    strategy: 'canary',
    plan,
    phase: phaseFor(status),
    restarts: [],
    requester: { userId: 'U_DEV' },
    origin: { kind: 'slack', channel: 'C0DEPLOYS', threadTs: '1.000001' },
    steps: [{ key: 'canary', title: 'Canary', status: status === 'succeeded' ? 'done' : 'running', detail: stage }],
    stage,
    createdAt: 0,
    updatedAt: 0,
  };
}

function progressMessage(): string {
  return double.workspace.addMessage({ channel: 'C0DEPLOYS', user: double.botUserId, botId: double.workspace.botId, text: 'starting' }).ts;
}

const updatesOf = (ts: string) => double.calls('chat.update').filter((c) => c.args.ts === ts);

describe('ProgressUpdater', () => {
  it('coalesces a burst of changes into a few edits that end on the newest state', async () => {
    const updater = new ProgressUpdater({ client, logger, queue: { perMessageIntervalMs: 300 } });
    const ts = progressMessage();
    updater.track('r-burst', { channel: 'C0DEPLOYS', ts });
    for (let i = 1; i <= 30; i++) updater.offer(run('r-burst', 'running', `canary ${i}%`), false);
    await updater.flush();
    const edits = updatesOf(ts);
    expect(edits.length).toBeGreaterThanOrEqual(1);
    expect(edits.length).toBeLessThanOrEqual(3);
    expect(textOf(double.workspace.findMessage('C0DEPLOYS', ts))).toContain('canary 30%');
    updater.stop();
  });

  it('honours 429 Retry-After and still delivers the final state', async () => {
    const updater = new ProgressUpdater({ client, logger, queue: { perMessageIntervalMs: 0 } });
    const ts = progressMessage();
    updater.track('r-429', { channel: 'C0DEPLOYS', ts });
    double.failNext('chat.update', 1, 1);
    updater.offer(run('r-429', 'succeeded', 'done'), true);
    await updater.flush();
    const edits = updatesOf(ts);
    expect(edits.map((c) => c.httpStatus)).toEqual([429, 200]);
    expect(updater.stats.rateLimited).toBe(1);
    expect(textOf(double.workspace.findMessage('C0DEPLOYS', ts))).toMatch(/Succeeded/);
    updater.stop();
  });

  it('shares one budget across runs: a final state goes before waiting progress ticks', async () => {
    const updater = new ProgressUpdater({
      client,
      logger,
      queue: { perMessageIntervalMs: 0, budgetPerWindow: 4, reserveForImportant: 1, windowMs: 1500 },
    });
    const ids = ['t1', 't2', 't3', 't4', 't5', 'fin'];
    const tsOf = new Map(ids.map((id) => [id, progressMessage()] as const));
    for (const [id, ts] of tsOf) updater.track(id, { channel: 'C0DEPLOYS', ts });
    const first = double.calls('chat.update').length;
    for (const id of ids.slice(0, 5)) updater.offer(run(id, 'running', 'canary 5%'), false);
    updater.offer(run('fin', 'rolled-back', 'rolled back'), false);
    await updater.flush();
    const order = double
      .calls('chat.update')
      .slice(first)
      .map((c) => [...tsOf].find(([, ts]) => ts === c.args.ts)![0]);
    // t1 was already on its way; the final state of `fin` jumps the queue of ticks.
    expect(order[0]).toBe('t1');
    expect(order[1]).toBe('fin');
    expect([...order].sort()).toEqual([...ids].sort());
    expect(textOf(double.workspace.findMessage('C0DEPLOYS', tsOf.get('fin')!))).toMatch(/Rolled back/);
    updater.stop();
  });
});
