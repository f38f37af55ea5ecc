// The deploy modal: opened from Configure… and /deploy right after the ack, pre-filled, risk
// changes the dependent defaults, bad answers come back inline, expired trigger_ids are explained.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockProblems, viewProblems } from '../../src/slack/blocks/limits.js';
import { actionIds, fastConfig, startHarness, waitFor, type Harness } from './harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';

beforeAll(async () => {
  h = await startHarness({ config: fastConfig() });
});
afterAll(async () => {
  await h?.close();
});

type Block = { block_id?: string; element?: Record<string, unknown> };
const blocksOf = (viewId: string) => (h.double.workspace.views.get(viewId)!.view.blocks as Block[]) ?? [];
const field = (viewId: string, key: string) => blocksOf(viewId).find((b) => b.block_id?.split('.')[0] === key);
const initial = (viewId: string, key: string) => {
  const e = field(viewId, key)?.element ?? {};
  return e.initial_value ?? (e.initial_option as { value?: string } | undefined)?.value;
};

/** Runs `act` and returns the view it opened (a new one, not one left from before). */
async function opens(act: () => Promise<unknown>) {
  const before = new Set(h.double.openViews().map((v) => v.id));
  await act();
  return waitFor('a new modal', () => h.double.openViews('U_DEV').find((v) => !before.has(v.id)));
}

async function requestReply(text: string, user = 'U_DEV') {
  const sent = await h.double.postUserMessage(user, 'deploys', `${BOT} ${text}`);
  const reply = await waitFor('the request reply', () => h.double.messages('deploys', sent.ts).find((m) => m.botId && m.ts !== sent.ts));
  return { sent, reply };
}

describe('deploy modal', () => {
  it('Configure… opens the modal with the six questions pre-filled from the request and risk defaults', async () => {
    const { reply } = await requestReply('deploy checkout v1.2.3 canary high risk with a db migration');
    const view = await opens(() => h.double.clickButton('U_DEV', reply.ts, 'req_configure'));
    expect(viewProblems(view.view)).toEqual([]);
    expect((view.view.title as { text: string }).text).toBe('Deploy checkout');
    for (const key of [
      'strategy',
      'risk',
      'errorRatePct',
      'p99Ms',
      'availabilityPct',
      'dbMigration',
      'rollbackTolerance',
      'observationMin',
      'regressionThresholdPct',
      'rollbackOnRegression',
      'guidance',
    ]) {
      expect(field(view.id, key), key).toBeDefined();
    }
    expect(initial(view.id, 'strategy')).toBe('canary');
    expect(initial(view.id, 'risk')).toBe('high');
    expect(initial(view.id, 'dbMigration')).toBe('yes');
    // checkout's own SLO (shipbot.yml) and the high-risk defaults.
    expect(initial(view.id, 'p99Ms')).toBe('400');
    expect(initial(view.id, 'regressionThresholdPct')).toBe(String(h.config.defaults.regressionThresholdPct.high));
    expect(initial(view.id, 'rollbackTolerance')).toBe('instant');
    h.double.driver.closeView(view.id);
  });

  it('changing the risk level updates the dependent defaults and keeps the other answers', async () => {
    const { reply } = await requestReply('deploy search v4.0.0 canary');
    const view = await opens(() => h.double.clickButton('U_DEV', reply.ts, 'req_configure'));
    expect(initial(view.id, 'risk')).toBe('medium');
    // The person first edits a non-dependent answer (state only, as in Slack), then the risk.
    const before = view.hash;
    await h.double.changeViewInput('U_DEV', view.id, 'risk', 'low');
    await waitFor('the view to be updated', () => view.hash !== before);
    expect(initial(view.id, 'risk')).toBe('low');
    expect(initial(view.id, 'regressionThresholdPct')).toBe(String(h.config.defaults.regressionThresholdPct.low));
    expect(initial(view.id, 'observationMin')).toBe(String(h.config.defaults.observationMin.low));
    expect(field(view.id, 'observationMin')!.block_id).toBe('observationMin.low');
    expect(initial(view.id, 'strategy')).toBe('canary');
    h.double.driver.closeView(view.id);
  });

  it('returns bad answers as inline errors on the field and keeps the modal open', async () => {
    const { reply } = await requestReply('deploy payments v5.0.0');
    const view = await opens(() => h.double.clickButton('U_DEV', reply.ts, 'req_configure'));
    const res = await h.double.submitView('U_DEV', view.id, { availabilityPct: '250', regressionThresholdPct: '40' });
    expect(res.status).toBe(200);
    expect(res.errors).toBeDefined();
    expect(Object.keys(res.errors!).sort()).toEqual(['availabilityPct', 'regressionThresholdPct.medium']);
    expect(res.errors!.availabilityPct).toMatch(/0 to 100/);
    expect(h.double.openViews('U_DEV').map((v) => v.id)).toContain(view.id);
    expect((await h.runner.list()).filter((r) => r.service === 'payments')).toHaveLength(0);
    h.double.driver.closeView(view.id);
  });

  it('asks for a missing service and version in the modal and validates them', async () => {
    const { reply } = await requestReply('deploy');
    expect(actionIds(reply)).toEqual(['req_configure', 'req_cancel']);
    const view = await opens(() => h.double.clickButton('U_DEV', reply.ts, 'req_configure'));
    expect(field(view.id, 'service')).toBeDefined();
    expect(field(view.id, 'version')).toBeDefined();
    const res = await h.double.submitView('U_DEV', view.id, { service: 'checkout', version: 'v1.2.3; rm -rf /' });
    expect(Object.keys(res.errors ?? {})).toEqual(['version']);
    h.double.driver.closeView(view.id);
  });

  it('explains an expired trigger_id instead of failing silently', async () => {
    const { reply } = await requestReply('deploy checkout v1.2.4');
    // As if Shipbot took longer than Slack's 3 s before calling views.open.
    h.double.setTriggerLifetime(-1);
    try {
      await h.double.clickButton('U_DEV', reply.ts, 'req_configure');
    } finally {
      h.double.setTriggerLifetime(3000);
    }
    const note = await waitFor('an ephemeral note', () =>
      h.double.ephemerals('U_DEV').find((m) => /Configure/.test(m.text) && /3 seconds/.test(m.text)),
    );
    expect(note.threadTs).toBe(reply.threadTs);
    expect(h.double.calls('views.open').at(-1)!.response.error).toBe('expired_trigger_id');
  });

  it('/deploy opens the modal straight away; a bad /deploy text is answered privately', async () => {
    const view = await opens(async () =>
      expect((await h.double.slashCommand('U_DEV', '/deploy', 'checkout v1.3.0 blue-green')).status).toBe(200),
    );
    expect(initial(view.id, 'strategy')).toBe('blue-green');
    h.double.driver.closeView(view.id);
    const bad = await h.double.slashCommand('U_DEV', '/deploy', 'checkout v1.3.0 $(whoami)');
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(bad.body)).toMatch(/Nothing was started/);
  });

  it('/deploy help and /deploy status answer only the person asking', async () => {
    const posts = h.double.calls('chat.postMessage').length;
    const help = await h.double.slashCommand('U_DEV', '/deploy', 'help');
    expect(help.body).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(help.body)).toContain('rollback checkout');
    const status = await h.double.slashCommand('U_DEV', '/deploy', 'status');
    expect(status.body).toMatchObject({ response_type: 'ephemeral' });
    expect(h.double.calls('chat.postMessage').length).toBe(posts);
  });

  it('a /deploy form, submitted, starts one run in a thread of its own with the answers as the plan', async () => {
    const view = await opens(() => h.double.slashCommand('U_DEV', '/deploy', 'search v5.0.0 canary'));
    const res = await h.double.submitView('U_DEV', view.id, { observationMin: '7', p99Ms: '450', dbMigration: 'yes' });
    expect(res.errors).toBeUndefined();
    const root = await waitFor('the thread root', () =>
      h.double.messages('deploys').find((m) => m.botId && !m.threadTs && /is deploying \*search v5\.0\.0\*/.test(m.text)),
    );
    const run = await waitFor('the run', async () =>
      (await h.runner.list()).find((r) => r.origin.kind === 'slack' && r.origin.threadTs === root.ts),
    );
    expect(run.plan).toMatchObject({
      service: 'search',
      version: 'v5.0.0',
      strategy: 'canary',
      observationSec: 420,
      dbMigration: true,
      slo: { p99Ms: 450 },
    });
    expect((await h.runner.list()).filter((r) => r.version === 'v5.0.0')).toHaveLength(1);
    await h.runner.command(run.id, 'cancel', { userId: 'U_DEV' });
  });

  it('every message Shipbot posted so far is within Block Kit limits', () => {
    for (const c of h.double.calls()) {
      if (c.args.blocks) expect(blockProblems(c.args.blocks, 'message'), c.method).toEqual([]);
      expect(c.response.error, `${c.method} ${JSON.stringify(c.response)}`).not.toBe('invalid_blocks');
    }
  });
});
