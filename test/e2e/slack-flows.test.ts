// Whole flows through Slack: signed requests into the Bolt app, the real runner against the
// sandbox cluster (fast clock), and the Slack double recording what people would see.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlm } from '../../src/llm/index.js';
import { createLogger } from '../../src/log.js';
import { readFileSync } from 'node:fs';
import { FINAL_STATUSES, type RunView, keptLockOf, outcomeOf, reportOf } from '../../src/domain/run.js';
import { reachedTarget } from '../../src/store/records.js';
import { blockProblems } from '../../src/slack/blocks/limits.js';
import type { DoubleMessage } from '../../src/slack/double/index.js';
import { actionIds, fastConfig, startHarness, textOf, waitFor, type Harness } from '../slack/harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';
/** How each end's summary begins (src/slack/blocks/report.ts). */
const HEADLINE: Record<string, string> = {
  succeeded: '✅ Deployed',
  'rolled-back': '↩️ Rolled back',
  failed: '❌ Failed',
  cancelled: '🚫 Cancelled',
  stopped: '⏹️ Stopped',
};

beforeAll(async () => {
  // The shared chat.update budget is tested in test/slack/progress.test.ts; here it must not throttle.
  // Without ANTHROPIC_API_KEY the LLM helpers answer with their rule-based results.
  h = await startHarness({
    // payments without staging: its -errors canary is caught by the production canary analysis.
    config: fastConfig((c) => {
      delete c.services.find((x) => x.name === 'payments')!.environments.staging;
    }),
    progress: { perMessageIntervalMs: 200, budgetPerWindow: 10_000 },
    llm: createLlm({ SHIPBOT_MODEL: 'claude-sonnet-4-6' }, { log: createLogger('silent') }),
  });
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
  const run = await waitFor(
    'the run to start',
    async () => (await h.runner.list()).find((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts),
    20_000,
    () => ({ ephemerals: h.double.ephemerals(user).map((m) => m.text), thread: h.double.messages('deploys', sent.ts).map((m) => m.text) }),
  );
  const origin = run.origin as { progressTs?: string };
  const progress = await waitFor('the progress message', () =>
    origin.progressTs ? h.double.workspace.findMessage('C0DEPLOYS', origin.progressTs) : undefined,
  );
  return { sent, reply, run, progress };
}

async function settled(runId: string, timeoutMs = 40_000): Promise<RunView> {
  return waitFor(
    `run ${runId} to finish`,
    async () => {
      const r = await h.runner.get(runId);
      return r && FINAL_STATUSES.has(r.phase.status) ? r : undefined;
    },
    timeoutMs,
    async () => (await h.runner.get(runId))?.steps.map((s) => `${s.status} ${s.title} ${s.detail ?? ''}`),
  );
}

/** The final state has reached the progress message (edits are coalesced and may trail the runner). */
async function progressShows(progress: DoubleMessage, pattern: RegExp): Promise<void> {
  await waitFor(
    `progress message to show ${pattern}`,
    () => pattern.test(textOf(progress)),
    15_000,
    () => textOf(progress),
  );
}

describe('Slack whole flows', () => {
  it('a healthy canary goes to success: live progress, summary in the thread, broadcast to stakeholders', async () => {
    // Slack rate-limits some edits on the way (429 + Retry-After): nothing may be lost.
    h.double.failNext('chat.update', 2, 1);
    const { sent, run, progress } = await startDeploy('deploy checkout v1.2.3 canary');
    const final = await settled(run.id);
    expect(final.phase.status).toBe('succeeded');
    await progressShows(progress, /Succeeded/);
    expect(progress.editCount).toBeGreaterThan(1);
    expect(textOf(progress)).toMatch(/✓ /);
    expect(actionIds(progress)).toEqual([]);
    const summary = await waitFor('the summary', () => botReplies(sent.ts).find((m) => /Deployed/.test(m.text)));
    expect(textOf(summary)).toContain('checkout v1.2.3');
    const broadcast = await waitFor('the broadcast', () =>
      h.double.messages('deploy-announcements').find((m) => m.botId && /checkout v1\.2\.3/.test(m.text)),
    );
    expect(broadcast.text).toMatch(/deployed successfully/);
    // The report is attached to the thread as a file.
    const report = await waitFor('the report file', () => h.double.messages('deploys', sent.ts).find((m) => m.files?.length));
    expect(report.files![0]!.name).toBe(`${run.id}.md`);
    expect(report.files![0]!.content).toMatch(/^# Deployment report: checkout v1\.2\.3/);
    // The request reply lost its buttons once the run started (Start cannot start a second run).
    expect(actionIds(botReplies(sent.ts)[0])).toEqual([]);
    expect(h.double.calls('chat.update').filter((c) => c.httpStatus === 429)).toHaveLength(2);
  });

  it('an -errors canary rolls back by itself', async () => {
    const { sent, run, progress } = await startDeploy('deploy payments v2.0.0-errors canary');
    const final = await settled(run.id);
    expect(final.phase.status).toBe('rolled-back');
    await progressShows(progress, /Rolled back/);
    expect(textOf(progress)).toMatch(/❌ canary \d+%/);
    expect(actionIds(progress)).toEqual(['run_investigate']);
    const summary = await waitFor('the summary', () => botReplies(sent.ts).find((m) => m.ts !== progress.ts && /Rolled back/.test(m.text)));
    // Production rolled back by itself: the thread says the service stays locked, and offers Unlock.
    expect(textOf(summary)).toMatch(
      /🔒 payments stays locked in production after an automatic rollback: no new deploy starts until it is checked and unlocked/,
    );
    expect(actionIds(summary)).toEqual(['run_unlock']);
    await h.double.clickButton('U_OTHER', summary.ts, 'run_unlock');
    await waitFor('a private refusal', () =>
      h.double.ephemerals('U_OTHER').find((m) => /may not unlock payments in production/.test(m.text)),
    );
    expect(await h.runner.getLock('payments', 'production')).toBeDefined();
    await h.double.clickButton('U_IC', summary.ts, 'run_unlock');
    await waitFor('the unlock in the thread', () =>
      botReplies(sent.ts).find((m) => /^🔓 <@U_IC> unlocked payments in production/.test(m.text)),
    );
    // The summary loses its Unlock in the same update and says it was unlocked.
    await waitFor(
      'the summary without Unlock',
      () => actionIds(summary).length === 0,
      10_000,
      () => actionIds(summary),
    );
    expect(textOf(summary)).toMatch(/🔓 payments in production has been unlocked since: new deploys can start/);
    expect(textOf(summary)).not.toMatch(/stays locked/);
    // A second press (or one on a stale message) is told it is done, not an error.
    await h.double.clickButton('U_IC', summary.ts, 'run_unlock');
    await waitFor('already done', () =>
      h.double.ephemerals('U_IC').find((m) => /^Already done: payments in production is not locked any more/.test(m.text)),
    );
  });

  it('with rollback-on-regression off, a regression waits for a person, who presses Accept', async () => {
    // payments has no staging here: a -slow build reaches its production canary (staging's gate would block it first).
    const { sent, run, progress } = await startDeploy('deploy payments v3.0.0-slow canary', { modal: { rollbackOnRegression: 'no' } });
    expect((await h.runner.get(run.id))!.plan.rollbackOnRegression).toBe(false);
    const accepted: string[] = [];
    for (let i = 0; i < 10; i++) {
      const r = await waitFor(
        'a decision or the end',
        async () => {
          const x = (await h.runner.get(run.id))!;
          return x.phase.status === 'awaiting-decision' || FINAL_STATUSES.has(x.phase.status) ? x : undefined;
        },
        40_000,
      );
      if (FINAL_STATUSES.has(r.phase.status)) break;
      await progressShows(progress, /Decision needed/);
      expect(actionIds(progress)).toEqual(['run_accept', 'run_rollback', 'run_investigate']);
      await h.double.clickButton('U_DEV', progress.ts, 'run_accept');
      accepted.push(r.stage ?? '');
      await waitFor('the run to continue', async () => (await h.runner.get(run.id))!.phase.status !== 'awaiting-decision');
    }
    expect(accepted.length).toBeGreaterThan(0);
    const final = await settled(run.id);
    expect(final.phase.status).toBe('succeeded');
    expect(botReplies(sent.ts).some((m) => /<@U_DEV> ✅ pressed \*Accept\*/.test(m.text))).toBe(true);
  });

  it('Rollback pressed twice acts once and the thread says who pressed it; someone without the role is refused', async () => {
    const { sent, run, progress } = await startDeploy('deploy checkout v1.2.5 canary', { modal: { observationMin: '10' } });
    await waitFor(
      'Rollback to be offered',
      async () =>
        actionIds(progress).includes('run_rollback') &&
        ['running', 'awaiting-decision'].includes((await h.runner.get(run.id))!.phase.status),
      20_000,
      async () => ({ status: (await h.runner.get(run.id))!.phase.status, buttons: actionIds(progress), text: textOf(progress) }),
    );
    // Bob is neither the requester nor an incident commander.
    await h.double.clickButton('U_OTHER', progress.ts, 'run_rollback');
    const refusal = await waitFor('a private refusal', () => h.double.ephemerals('U_OTHER').find((m) => /roll back/i.test(m.text)));
    expect(refusal.text).toMatch(/Only/);
    expect(['running', 'awaiting-decision']).toContain((await h.runner.get(run.id))!.phase.status);
    // The incident commander presses twice (e.g. from a phone with a shaky connection).
    await Promise.all([
      h.double.clickButton('U_IC', progress.ts, 'run_rollback'),
      h.double.clickButton('U_IC', progress.ts, 'run_rollback'),
    ]);
    const final = await settled(run.id);
    expect(final.phase.status).toBe('rolled-back');
    const pressed = botReplies(sent.ts).filter((m) => /pressed \*Rollback\*/.test(m.text));
    expect(pressed).toHaveLength(1);
    expect(pressed[0]!.text).toContain('<@U_IC>');
    expect(h.double.ephemerals('U_IC').some((m) => /Already done/.test(m.text))).toBe(true);
    await progressShows(progress, /Rolled back/);
    // The message no longer has Rollback, but a client that has not redrawn still sends the
    // press (as Slack does): the answer is who already did it, never an error.
    expect(actionIds(progress)).not.toContain('run_rollback');
    const stale = await h.double.clickButton('U_DEV', progress.ts, 'run_rollback');
    expect(stale.status).toBe(200);
    await waitFor(
      'already done, by whom',
      () => h.double.ephemerals('U_DEV').find((m) => /^Already done: already rolled back by ivan$/.test(m.text)),
      10_000,
      () => h.double.ephemerals('U_DEV').map((m) => m.text),
    );
  });

  it('Investigate answers in three short parts and attaches the full diagnostics as a file', async () => {
    const rolledBack = (await h.runner.list()).find(
      (r) => r.phase.status === 'rolled-back' && r.origin.kind === 'slack' && r.service === 'payments',
    )!;
    const origin = rolledBack.origin as { threadTs: string; progressTs: string };
    await h.double.clickButton('U_DEV', origin.progressTs, 'run_investigate');
    const diag = await waitFor('the briefing', () => botReplies(origin.threadTs).find((m) => /^Investigate /.test(m.text)));
    // textOf: the notification text, then the blocks' lines.
    const lines = textOf(diag).split('\n').filter(Boolean).slice(1);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[1]).toMatch(/^\*What failed:\* canary \d+% failed \(serving [\d.]+%\): error rate/);
    expect(lines).toContain('*Evidence:*');
    expect(
      lines.find((l) => l.startsWith('• error rate:')),
      lines.join('\n'),
    ).toMatch(/^• error rate: \d+\.\d+% vs \d+\.\d+% baseline/);
    expect(lines.some((l) => /too little traffic/.test(l))).toBe(false);
    // Its lock was lifted in the test above: the next step says so, not "locked".
    expect(lines.at(-1)).toBe('*Next:* Production is back on the previous version. Fix the build, then deploy it again.');
    const file = await waitFor('the diagnostics file', () =>
      h.double
        .messages('deploys', origin.threadTs)
        .flatMap((m) => m.files ?? [])
        .find((f) => f.name.endsWith('-diagnostics.md')),
    );
    expect(file.content).toMatch(/## Pods[\s\S]*## Recent events/);
  });

  it('a high-risk production deploy waits for a second person to press Approve', async () => {
    const { sent, run, progress } = await startDeploy('deploy search v3.2.0 canary high risk');
    await waitFor(
      'Approve to be offered',
      () => actionIds(progress).includes('run_approve'),
      15_000,
      () => textOf(progress),
    );
    expect((await h.runner.get(run.id))!.phase.status).toBe('pending-approval');
    // The requester may not approve their own deploy.
    await h.double.clickButton('U_DEV', progress.ts, 'run_approve');
    await waitFor('a private refusal', () => h.double.ephemerals('U_DEV').find((m) => /second person/.test(m.text)));
    expect((await h.runner.get(run.id))!.phase.status).toBe('pending-approval');
    await h.double.clickButton('U_IC', progress.ts, 'run_approve');
    await waitFor('the approval in the thread', () => botReplies(sent.ts).find((m) => /<@U_IC> 👍 approved/.test(m.text)));
    // Approved, it rolls out; the incident commander ends it early with Rollback.
    await waitFor(
      'Rollback to be offered',
      async () => actionIds(progress).includes('run_rollback') && !FINAL_STATUSES.has((await h.runner.get(run.id))!.phase.status),
      20_000,
    );
    await h.double.clickButton('U_IC', progress.ts, 'run_rollback');
    expect((await settled(run.id)).phase.status).toBe('rolled-back');
  });

  it('a locked service is explained in the proposal and when a stale Start is pressed, and `unlock` from the thread lifts it', async () => {
    // Proposed while payments was free; locked before Start is pressed.
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy payments v2.0.1 canary`);
    const reply = await waitFor('the reply', () => botReplies(sent.ts)[0]);
    expect(actionIds(reply)).toContain('req_start');
    const lock = await h.double.postUserMessage('U_IC', 'deploys', `${BOT} lock payments production because ledger migration`);
    // 🔒, or ⚠️ when it is still locked after the automatic rollback above: locked either way.
    await waitFor('the lock answer', () => botReplies(lock.ts).find((m) => /🔒|⚠️/.test(m.text)));
    // A proposal made now says it is locked, and offers to queue instead of a Start that would be refused.
    const later = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy payments v2.0.2 canary`);
    const laterReply = await waitFor('the later reply', () => botReplies(later.ts)[0]);
    expect(textOf(laterReply)).toMatch(/🔒 payments in production is locked by ivan: ledger migration/);
    expect(actionIds(laterReply)).toEqual(['req_configure', 'req_queue', 'req_cancel']);
    // Start on the earlier proposal: refused once, in the thread, and that proposal is closed.
    await h.double.clickButton('U_DEV', reply.ts, 'req_start');
    // Said once, in the thread where Start was pressed: who locked it, why, and how to unlock.
    const refused = await waitFor('the lock explained', () => botReplies(sent.ts).find((m) => /Not started: 🔒/.test(m.text)));
    expect(refused.text).toMatch(
      /^❌ Not started: 🔒 payments in production is locked by ivan: ledger migration, since <!date\^\d+\^\{date_short_pretty\} \{time\}\|[\d-]+ [\d:]+ UTC>\.\nOnce it is checked, an incident commander unlocks it: `unlock payments production`\.$/,
    );
    expect(h.double.ephemerals('U_DEV').filter((m) => m.threadTs === sent.ts && /locked/.test(m.text))).toEqual([]);
    await waitFor('the proposal closed', () => actionIds(reply).length === 0 && /Not started: see below/.test(textOf(reply)));
    const unlock = await h.double.postUserMessage('U_IC', 'deploys', `${BOT} unlock payments production`, { threadTs: sent.ts });
    const answer = await waitFor('the unlock answer', () => botReplies(sent.ts).find((m) => m.ts > unlock.ts && /🔓|⚠️/.test(m.text)));
    expect(answer.text).toMatch(/🔓/);
    expect((await h.runner.list()).filter((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts)).toHaveLength(0);
  });

  it('a proposal for a busy service offers Queue behind it: the request is booked and starts when the lock is released', async () => {
    const first = await startDeploy('deploy search v3.3.0 canary', { modal: { observationMin: '30' } });
    await waitFor('the first run to roll out', async () => (await h.runner.get(first.run.id))?.phase.status === 'running');
    const sent = await h.double.postUserMessage('U_IC', 'deploys', `${BOT} deploy search v3.3.1 rolling`);
    const reply = await waitFor('the reply', () => botReplies(sent.ts)[0]);
    expect(textOf(reply)).toMatch(/🔒 search in production is busy/);
    expect(actionIds(reply)).toEqual(['req_configure', 'req_queue', 'req_cancel']);
    await h.double.clickButton('U_IC', reply.ts, 'req_queue');
    const queued = await waitFor('the queued run', async () =>
      (await h.runner.list()).find((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts),
    );
    expect(queued.phase.status).toBe('queued');
    await waitFor('the proposal closed', () => actionIds(reply).length === 0 && /Queued behind the lock by <@U_IC>/.test(textOf(reply)));
    // Pressed again (a stale client): still one booking.
    await h.double.clickButton('U_IC', reply.ts, 'req_queue');
    await new Promise((r) => setTimeout(r, 300));
    expect((await h.runner.list()).filter((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts)).toHaveLength(1);
    // The first run ends (rolled back by hand): the queued one starts, and its thread shows it.
    await h.double.clickButton('U_IC', first.progress.ts, 'run_rollback');
    expect((await settled(first.run.id)).phase.status).toBe('rolled-back');
    const done = await settled(queued.id, 60_000);
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect((await h.runner.auditTrail(queued.id)).map((e) => e.action)).toContain('dequeued');
  });

  it('a failing migration Job stops the run before any traffic moves; the thread shows the reason and its log tail', async () => {
    const { sent, run, progress } = await startDeploy('deploy checkout v1.2.3-migfail canary with a database migration');
    const final = await settled(run.id);
    expect(final.phase.status, outcomeOf(final)).toBe('failed');
    await progressShows(progress, /❌ Staging migration/);
    const summary = await waitFor('the summary', () => botReplies(sent.ts).find((m) => /Failed/.test(m.text)));
    const text = textOf(summary);
    expect(text).toMatch(/staging migration: Job checkout-migrate-staging-v1-2-3-migfail-[0-9a-f]{10} failed \(BackoffLimitExceeded/);
    expect(text).toMatch(/Last log lines \(pod checkout-migrate-staging-v1-2-3-migfail-[0-9a-f]{10}-\w+\):\n```\n[\s\S]*migration failed/);
    expect(await h.runner.getLock('checkout', 'production')).toBeUndefined();
  });

  it('a release stopped at staging, a blue-green and a rolling release, at once', async () => {
    const [bad, bg, rolling] = await Promise.all([
      startDeploy('deploy search v2.0.9-errors canary'),
      startDeploy('deploy web v2.0.3 blue-green'),
      startDeploy('deploy catalog v2.0.4 rolling'),
    ]);
    const ends = await Promise.all([bad, bg, rolling].map((d) => settled(d.run.id, 90_000)));
    expect(ends.map((r) => r.phase.status)).toEqual(['rolled-back', 'succeeded', 'succeeded']);
    await h.double.clickButton('U_DEV', bad.progress.ts, 'run_investigate');
    await waitFor('the diagnostics file', () =>
      h.double.messages('deploys', bad.sent.ts).some((m) => m.files?.some((f) => f.name.endsWith('-diagnostics.md'))),
    );
  }, 120_000);

  it('no message, shared file or report names a filesystem path or a raw user id', async () => {
    // Every text Shipbot sent (each edit of each message, ephemerals, modals), every file it shared,
    // and every report it wrote, for every run of every kind above. In messages, mentions (<@U…>)
    // are how Slack writes names; anything else with an id is an id shown to people.
    const texts: Array<{ where: string; text: string }> = [];
    const walk = (where: string, x: unknown): void => {
      if (Array.isArray(x)) x.forEach((v) => walk(where, v));
      else if (x && typeof x === 'object')
        for (const [k, v] of Object.entries(x)) {
          if (typeof v === 'string' && ['text', 'title', 'content', 'initial_comment', 'alt_text'].includes(k))
            texts.push({ where, text: v });
          else walk(where, v);
        }
    };
    for (const c of h.double.calls()) walk(c.method, c.args);
    for (const m of h.double.messages('deploys').flatMap((m) => [m, ...h.double.messages('deploys', m.ts)]))
      for (const f of m.files ?? []) texts.push({ where: `file ${f.name}`, text: f.content });
    const runs = await h.runner.list();
    for (const kind of ['succeeded', 'rolled-back', 'failed'])
      expect(
        runs.some((r) => r.phase.status === kind),
        kind,
      ).toBe(true);
    for (const strategy of ['canary', 'blue-green', 'rolling'])
      expect(
        runs.some((r) => r.strategy === strategy),
        strategy,
      ).toBe(true);
    for (const r of runs) {
      const files = reportOf(r);
      for (const file of [files?.path, files?.incident])
        if (file) texts.push({ where: `report ${r.id}`, text: readFileSync(file, 'utf8') });
    }
    expect(texts.filter((t) => t.where.startsWith('report')).length).toBeGreaterThanOrEqual(8);
    const problems = new Set<string>();
    for (const { where, text } of texts) {
      // Slack renders a mention as the name; a file or a report shows it as typed.
      const plain = /^(file|report)/.test(where) ? text : text.replace(/<@U\w+(\|[^>]*)?>/g, '@someone');
      const path = /(?:^|[\s(`'"])(?:\/(?:tmp|var|home|work|usr|etc|root|opt|srv)\/|[A-Za-z]:\\)\S*/g;
      const id = /\bU(?:_[A-Z]+|0[A-Z0-9]{5,})\b/g;
      for (const m of [...plain.matchAll(path), ...plain.matchAll(id)])
        problems.add(
          `${where.replace(/ r-\w+/, '')}: …${plain.slice(Math.max(0, m.index - 60), m.index + m[0].length + 20).replace(/\n/g, ' ⏎ ')}…`,
        );
    }
    // Wording: no "Canary — Canary" repeats around a dash; every judged canary row says what it served.
    for (const { where, text } of texts)
      for (const line of text.split('\n')) {
        const twice = /(?:^|[\s*_])([A-Za-z][\w-]{2,}(?: [\w-]+)*)\s+—\s+\1\b/i.exec(line);
        if (twice) problems.add(`${where}: "${twice[1]}" said twice: ${line}`);
        if (/^(?:✓|❌|⚠️)\s*canary \d+%/i.test(line) && !/serving [\d.]+%|interrupted|skipped|not reached/.test(line))
          problems.add(`${where}: a canary row that does not say what it served: ${line}`);
      }
    expect([...problems]).toEqual([]);
  });

  it("each run's summary and report say what its record holds: outcome, where it stopped, the lock, the numbers", async () => {
    const WORD = { succeeded: 'Succeeded', 'rolled-back': 'Rolled back', failed: 'Failed', cancelled: 'Cancelled', stopped: 'Stopped' };
    const ended = (await h.runner.list()).filter((r) => FINAL_STATUSES.has(r.phase.status) && reportOf(r) && r.origin.kind === 'slack');
    expect(ended.length).toBeGreaterThanOrEqual(8);
    for (const view of ended) {
      const r = (await h.runner.record(view.id))!;
      const md = readFileSync(reportOf(r)!.path, 'utf8');
      const origin = r.origin as { channel: string; threadTs: string };
      const summary = textOf(h.double.messages('deploys', origin.threadTs).find((m) => m.text.startsWith(HEADLINE[r.phase.status]!)));
      const at = `${r.id} ${r.service} ${r.version} ${r.phase.status}`;
      expect(md, at).toMatch(new RegExp(`^\\| Outcome \\| ${WORD[r.phase.status as keyof typeof WORD]}`, 'm'));
      expect(summary, at).not.toBe('');
      // Where it stopped: a release that never left staging says staging, in the summary and the report.
      const reached = reachedTarget(r).environment;
      if (r.phase.status === 'rolled-back' && reached !== r.environment) {
        expect(summary, at).toMatch(/Rolled back in staging: .* never reached production/);
        expect(md, at).toContain('(in staging, against production');
      } else expect(summary, at).not.toMatch(/in staging/);
      // The lock: said to stay exactly when the run kept it.
      expect(/stays locked/.test(md), `${at}: report`).toBe(Boolean(keptLockOf(r)));
      // The summary is edited once someone unlocks: then it says so instead.
      const held = Boolean(keptLockOf(r)) && (await h.runner.getLock(r.service, r.environment))?.kind === 'held';
      expect(/stays locked/.test(summary), `${at}: summary`).toBe(held);
      expect(/has been unlocked since/.test(summary), `${at}: summary`).toBe(Boolean(keptLockOf(r)) && !held);
      // The numbers: a judged run's table has them, and the strategy is the run's.
      if (reachedTarget(r).decisions?.some((d) => d.candidate)) expect(md, at).toMatch(/^\| error rate \| [\d.]+% \| [\d.]+% \|/m);
      expect(md, at).toMatch(new RegExp(`^\\| Strategy \\| ${r.strategy}`, 'm'));
      expect(md, at).not.toMatch(/No baseline traffic was measured/);
    }
  });

  it('everything Shipbot sent stayed within Block Kit limits', () => {
    for (const c of h.double.calls()) {
      if (Array.isArray(c.args.blocks)) expect(blockProblems(c.args.blocks, 'message'), c.method).toEqual([]);
      expect(c.response.error ?? 'none', c.method).not.toMatch(/invalid_blocks|invalid_arguments/);
    }
  });
});
