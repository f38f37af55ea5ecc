// A team that runs Argo Rollouts deploys from Slack: the request in the channel, the live message
// with the Rollout's own steps, the Accept button at its pause without duration, the summary.
// Signed requests into the Bolt app, the real runner on the sandbox's Rollout controller.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES } from '../../src/domain/run.js';
import { rolloutConfig } from '../helpers/rollouts.js';
import { actionIds, fastConfig, startHarness, textOf, waitFor, type Harness } from '../slack/harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';

beforeAll(async () => {
  h = await startHarness({
    config: fastConfig(() => undefined, rolloutConfig()),
    progress: { perMessageIntervalMs: 200, budgetPerWindow: 10_000 },
  });
});
afterAll(async () => {
  await h?.close();
});

describe('an Argo Rollout from Slack', () => {
  it("shows the Rollout's steps, offers Accept at its open pause, and succeeds when it is pressed", async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy checkout v1.3.0`);
    const reply = await waitFor('the request reply', () => h.double.messages('deploys', sent.ts).find((m) => m.botId && m.ts !== sent.ts));
    await h.double.clickButton('U_DEV', reply.ts, 'req_start');
    const run = await waitFor('the run', async () =>
      (await h.runner.list()).find((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts),
    );
    const origin = run.origin as { progressTs?: string };
    const progress = await waitFor('the progress message', () =>
      origin.progressTs ? h.double.workspace.findMessage('C0DEPLOYS', origin.progressTs) : undefined,
    );
    await waitFor(
      'Accept at the pause',
      () => actionIds(progress).includes('run_accept') && /waiting for Accept/.test(textOf(progress)),
      30_000,
      () => textOf(progress),
    );
    const text = textOf(progress);
    for (const row of ['canary 20%', 'pause 60s', 'canary 50%', 'waiting for Accept', 'canary 100%', 'promote to 100%'])
      expect(text).toContain(row);
    expect(text).toMatch(
      /checkout's Rollout waits for a person at "waiting for Accept" \(50% of traffic on v1\.3\.0; Rollout Paused: CanaryPauseStep\)/,
    );
    await h.double.clickButton('U_DEV', progress.ts, 'run_accept');
    const done = await waitFor(
      'the run to finish',
      async () => {
        const r = await h.runner.get(run.id);
        return r && FINAL_STATUSES.has(r.phase.status) ? r : undefined;
      },
      40_000,
    );
    expect(done.phase.status).toBe('succeeded');
    await waitFor('the summary', () => h.double.messages('deploys', sent.ts).find((m) => m.botId && /Deployed/.test(m.text)));
  });
});
