// Whole flows through Slack: signed requests into the Bolt app, the real runner against the
// sandbox cluster (fast clock), and the Slack double recording what people would see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FINAL_STATUSES, type RunView } from '../../src/runner/types.js';
import { blockProblems } from '../../src/slack/blocks/limits.js';
import type { DoubleMessage } from '../../src/slack/double/index.js';
import { actionIds, fastConfig, startHarness, textOf, waitFor, type Harness } from '../slack/harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';

beforeAll(async () => {
  h = await startHarness({ config: fastConfig(), progress: { perMessageIntervalMs: 200 } });
});
afterAll(async () => {
  await h?.close();
});

const botReplies = (threadTs: string) => h.double.messages('deploys', threadTs).filter((m) => m.botId && m.ts !== threadTs);

/** Mention → reply → (optionally Configure and submit) → Start; returns the run and its progress message. */
async function startDeploy(text: string, opts: { user?: string; modal?: Record<string, string> } = {}) {
  const user = opts.user ?? 'U_DEV';
  const sent = await h.double.postUserMessage(user, 'deploys', `${BOT} ${text}`);
  const reply = await waitFor('the request reply', () => botReplies(sent.ts)[0]);
  if (opts.modal) {
    const before = new Set(h.double.openViews().map((v) => v.id));
    await h.double.clickButton(user, reply.ts, 'req_configure');
    const view = await waitFor('the modal', () => h.double.openViews(user).find((v) => !before.has(v.id)));
    const res = await h.double.submitView(user, view.id, opts.modal);
    expect(res.errors).toBeUndefined();
  } else {
    await h.double.clickButton(user, reply.ts, 'req_start');
  }
  const run = await waitFor('the run to start', () => h.runner.list().find((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts));
  const origin = run.origin as { progressTs?: string };
  const progress = await waitFor('the progress message', () => (origin.progressTs ? h.double.workspace.findMessage('C0DEPLOYS', origin.progressTs) : undefined));
  return { sent, reply, run, progress };
}

async function settled(runId: string, timeoutMs = 40_000): Promise<RunView> {
  return waitFor(`run ${runId} to finish`, () => {
    const r = h.runner.get(runId);
    return r && FINAL_STATUSES.has(r.status) ? r : undefined;
  }, timeoutMs, () => h.runner.get(runId)?.steps.map((s) => `${s.status} ${s.title} ${s.detail ?? ''}`));
}

/** The final state has reached the progress message (edits are coalesced and may trail the runner). */
async function progressShows(progress: DoubleMessage, pattern: RegExp): Promise<void> {
  await waitFor(`progress message to show ${pattern}`, () => pattern.test(textOf(progress)), 15_000, () => textOf(progress));
}

describe('Slack whole flows', () => {
  it('a healthy canary goes to success: live progress, summary in the thread, broadcast to stakeholders', async () => {
    const { sent, run, progress } = await startDeploy('deploy checkout v1.2.3 canary');
    const final = await settled(run.id);
    expect(final.status).toBe('succeeded');
    await progressShows(progress, /Succeeded/);
    expect(progress.editCount).toBeGreaterThan(1);
    expect(textOf(progress)).toMatch(/✓ /);
    expect(actionIds(progress)).toEqual([]);
    const summary = await waitFor('the summary', () => botReplies(sent.ts).find((m) => /Deployed/.test(m.text)));
    expect(textOf(summary)).toContain('checkout v1.2.3');
    const broadcast = await waitFor('the broadcast', () => h.double.messages('deploy-announcements').find((m) => m.botId && /checkout v1\.2\.3/.test(m.text)));
    expect(broadcast.text).toMatch(/Deployed/);
    // The request reply lost its buttons once the run started (Start cannot start a second run).
    expect(actionIds(botReplies(sent.ts)[0])).toEqual([]);
  });

  it('an -errors canary rolls back by itself', async () => {
    const { sent, run, progress } = await startDeploy('deploy payments v2.0.0-errors canary');
    const final = await settled(run.id);
    expect(final.status).toBe('rolled-back');
    await progressShows(progress, /Rolled back/);
    expect(textOf(progress)).toMatch(/❌/);
    expect(actionIds(progress)).toEqual(['run_investigate']);
    await waitFor('the summary', () => botReplies(sent.ts).find((m) => /Rolled back/.test(m.text)));
  });

  it('with rollback-on-regression off, a regression waits for a person, who presses Accept', async () => {
    const { sent, run, progress } = await startDeploy('deploy search v3.0.0-slow canary', { modal: { rollbackOnRegression: 'no' } });
    expect(h.runner.get(run.id)!.plan.rollbackOnRegression).toBe(false);
    const accepted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await waitFor('a decision or the end', () => {
        const x = h.runner.get(run.id)!;
        return x.status === 'awaiting-decision' || FINAL_STATUSES.has(x.status) ? x : undefined;
      }, 40_000);
      if (FINAL_STATUSES.has(r.status)) break;
      await progressShows(progress, /Decision needed/);
      expect(actionIds(progress)).toEqual(['run_accept', 'run_rollback', 'run_investigate']);
      await h.double.clickButton('U_DEV', progress.ts, 'run_accept');
      accepted.push(r.stage ?? '');
      await waitFor('the run to continue', () => h.runner.get(run.id)!.status !== 'awaiting-decision');
    }
    expect(accepted.length).toBeGreaterThan(0);
    const final = await settled(run.id);
    expect(final.status).toBe('succeeded');
    expect(botReplies(sent.ts).some((m) => /<@U_DEV> ✅ pressed \*Accept\*/.test(m.text))).toBe(true);
  });

  it('Rollback pressed twice acts once and the thread says who pressed it; someone without the role is refused', async () => {
    const { sent, run, progress } = await startDeploy('deploy checkout v1.2.5 canary', { modal: { observationMin: '10' } });
    await waitFor(
      'Rollback to be offered',
      () => actionIds(progress).includes('run_rollback') && ['running', 'awaiting-decision'].includes(h.runner.get(run.id)!.status),
      20_000,
      () => ({ status: h.runner.get(run.id)!.status, buttons: actionIds(progress), text: textOf(progress) }),
    );
    // Bob is neither the requester nor an incident commander.
    await h.double.clickButton('U_OTHER', progress.ts, 'run_rollback');
    const refusal = await waitFor('a private refusal', () => h.double.ephemerals('U_OTHER').find((m) => /roll back/i.test(m.text)));
    expect(refusal.text).toMatch(/Only/);
    expect(['running', 'awaiting-decision']).toContain(h.runner.get(run.id)!.status);
    // The incident commander presses twice (e.g. from a phone with a shaky connection).
    await Promise.all([h.double.clickButton('U_IC', progress.ts, 'run_rollback'), h.double.clickButton('U_IC', progress.ts, 'run_rollback')]);
    const final = await settled(run.id);
    expect(final.status).toBe('rolled-back');
    const pressed = botReplies(sent.ts).filter((m) => /pressed \*Rollback\*/.test(m.text));
    expect(pressed).toHaveLength(1);
    expect(pressed[0]!.text).toContain('<@U_IC>');
    expect(h.double.ephemerals('U_IC').some((m) => /Already done/.test(m.text))).toBe(true);
    await progressShows(progress, /Rolled back/);
  });

  it('Investigate posts diagnostics in the thread', async () => {
    const rolledBack = h.runner.list().find((r) => r.status === 'rolled-back' && r.origin.kind === 'slack')!;
    const origin = rolledBack.origin as { threadTs: string; progressTs: string };
    await h.double.clickButton('U_DEV', origin.progressTs, 'run_investigate');
    const diag = await waitFor('diagnostics', () => botReplies(origin.threadTs).find((m) => /^Diagnostics for/.test(m.text)));
    const text = textOf(diag);
    for (const part of ['Pods', 'Canary vs baseline', 'Failing checks', 'Recent events']) expect(text).toContain(part);
  });

  it('everything Shipbot sent stayed within Block Kit limits', () => {
    for (const c of h.double.calls()) {
      if (Array.isArray(c.args.blocks)) expect(blockProblems(c.args.blocks, 'message'), c.method).toEqual([]);
      expect(c.response.error ?? 'none', c.method).not.toMatch(/invalid_blocks|invalid_arguments/);
    }
  });
});
