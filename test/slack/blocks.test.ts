// Block Kit builders stay within Slack's limits however long the run, the lists or the texts;
// long lists are cut with a count. Checked with the same rules the Slack double rejects on.
import { describe, expect, it } from 'vitest';
import type { Diagnostics, RunView } from '../../src/domain/run.js';
import { LIMITS, blockProblems, joinLinesWithin, viewProblems } from '../../src/slack/blocks/limits.js';
import { decodeMetadata, deployModal } from '../../src/slack/blocks/modal.js';
import { progressMessage } from '../../src/slack/blocks/progress.js';
import { diagnosticsMarkdown } from '../../src/reports/investigate.js';
import { investigateMessage } from '../../src/slack/blocks/investigate.js';
import { broadcastMessage, summaryMessage, tookWords } from '../../src/slack/blocks/report.js';
import { statusText } from '../../src/slack/listeners/commands.js';
import { encodeRequest, requestReply } from '../../src/slack/blocks/request.js';
import { modalFor, planFromRequest, recommend } from '../../src/slack/planning.js';
import { DeployRequest } from '../../src/domain/types.js';
import { shippedConfig, textOf } from './harness.js';

const request = DeployRequest.parse({
  intent: 'deploy',
  service: 'checkout',
  version: 'v1.2.3',
  guidance: 'g'.repeat(2000),
  notes: Array.from({ length: 40 }, (_, i) => `note ${i} ${'n'.repeat(200)}`),
});
const planned = planFromRequest(request, shippedConfig);
if (!planned.ok) throw new Error(planned.message);

function bigRun(): RunView {
  return {
    id: 'r-big',
    service: 'checkout',
    environment: 'production',
    version: 'v1.2.3',
    strategy: 'canary',
    plan: planned.ok ? planned.plan : (undefined as never),
    phase: {
      status: 'awaiting-decision',
      decision: {
        verdict: 'INCONCLUSIVE',
        explanation: 'e'.repeat(4000),
        findings: Array.from({ length: 200 }, (_, i) => ({ rule: `rule ${i}`, verdict: 'ROLLBACK' as const, detail: 'x'.repeat(100) })),
      },
    },
    restarts: [],
    requester: { userId: 'U_DEV' },
    origin: { kind: 'slack', channel: 'C0DEPLOYS', threadTs: '1.1' },
    steps: Array.from(
      { length: 300 },
      (_, i) =>
        ({ key: `s${i}`, title: `Step ${i}`, status: i % 2 ? 'done' : 'warning', detail: 'd'.repeat(150) }) as RunView['steps'][number],
    ),
    stage: 's'.repeat(5000),
    createdAt: 0,
    updatedAt: 1,
  };
}

describe('what a message names', () => {
  it("names the report by its file, never by a path on Shipbot's disk", () => {
    const run: RunView = {
      ...bigRun(),
      steps: [],
      stage: 'done',
      phase: { status: 'succeeded', outcome: 'v1.2.3 is live', report: { path: '/var/lib/shipbot/reports/r-big.md' } },
    };
    for (const m of [summaryMessage(run), broadcastMessage(run, 'C0DEPLOYS'), progressMessage(run)]) {
      const text = JSON.stringify(m);
      expect(text).toContain('r-big.md');
      expect(text).not.toContain('/var/lib');
    }
  });
});

describe('a run that a restart picked up', () => {
  it('shows the restart note while it runs, and not again in the final message beside the outcome', () => {
    const note = 'Shipbot restarted <!date^1796000000^{date_short_pretty} {time}|2026-12-07 08:13 UTC>; stopped safely: the plan changed';
    const running: RunView = { ...bigRun(), steps: [], restarts: [{ at: 1, note }], phase: { status: 'running' } };
    const count = (m: unknown) => JSON.stringify(m).split('Shipbot restarted').length - 1;
    expect(count(progressMessage(running))).toBe(1);
    const stopped: RunView = { ...running, phase: { status: 'stopped', outcome: 'Shipbot stopped it after a restart: the plan changed' } };
    expect(count(progressMessage(stopped))).toBe(0);
    expect(JSON.stringify(progressMessage(stopped))).toContain('stopped it after a restart');
  });
});

describe('the summary of a release stopped at staging', () => {
  it('says staging, not the production it never reached', () => {
    const run: RunView = {
      ...bigRun(),
      version: 'v1.2.6-errors',
      steps: [
        { key: 'staging-deploy', title: 'Staging deploy', status: 'done' },
        { key: 'staging-gate', title: 'Staging regression gate', status: 'failed', detail: 'error rate 8% vs 0.2%' },
        { key: 'stage:canary-5', title: 'Canary 5%', status: 'skipped' },
        { key: 'rollback', title: 'Rollback', status: 'done' },
      ],
      phase: { status: 'rolled-back', outcome: 'staging regression gate: error rate 8% vs 0.2%' },
    };
    const head = summaryMessage(run).text;
    expect(head).toMatch(/^↩️ Rolled back in staging: checkout v1\.2\.6-errors never reached production/);
    expect(head).not.toMatch(/→ production/);
  });
});

describe('status', () => {
  it('names the locks a deploy would run into, by the name of who holds them, beside what is deploying', () => {
    const text = statusText(
      [],
      [
        { service: 'checkout', environment: 'production', holder: 'ivan (U_IC)', since: 0, reason: 'db maintenance', kind: 'manual' },
        {
          service: 'search',
          environment: 'production',
          holder: 'dev (U_DEV)',
          runId: 'r-1',
          since: 0,
          reason: 'deploying v2',
          kind: 'run',
        },
        {
          service: 'payments',
          environment: 'production',
          holder: 'shipbot',
          runId: 'r-2',
          since: 0,
          reason: 'an automatic rollback (run r-2: error rate 8%)',
          kind: 'held',
        },
      ],
    );
    expect(text).toMatch(/^Nothing is deploying right now\./);
    expect(text).toContain('🔒 checkout in production is locked by ivan: db maintenance.');
    expect(text).toContain('🔒 payments in production is kept locked after an automatic rollback');
    expect(text).not.toMatch(/U_IC|search in production/);
    expect(statusText([], [], 'checkout')).toBe('Nothing is deploying checkout right now.');
  });
});

describe('Block Kit limits', () => {
  it('cuts long lists with a count and never exceeds the budget', () => {
    const text = joinLinesWithin(
      Array.from({ length: 1000 }, (_, i) => `line ${i}`),
      100,
    );
    expect(text.length).toBeLessThanOrEqual(100);
    expect(text).toMatch(/…and \d+ more$/);
    expect(joinLinesWithin(['a', 'b'], 100)).toBe('a\nb');
  });

  it('a progress message with hundreds of steps and findings stays valid and says what was cut', () => {
    const msg = progressMessage(bigRun());
    expect(blockProblems(msg.blocks, 'message')).toEqual([]);
    expect(textOf({ text: msg.text, blocks: msg.blocks } as never)).toMatch(/…and \d+ more steps/);
    expect(textOf({ text: '', blocks: msg.blocks } as never)).toMatch(/…and \d+ more findings/);
    // Decision buttons are there, with a confirmation on Rollback.
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Array<Record<string, unknown>> };
    expect(actions.elements.map((e) => e.action_id)).toEqual(['run_accept', 'run_rollback', 'run_investigate']);
    expect(actions.elements[1]!.confirm).toBeDefined();
  });

  it('the summary and diagnostics of huge runs stay valid', () => {
    const run = { ...bigRun(), phase: { status: 'rolled-back' as const, outcome: 'o'.repeat(5000) } };
    expect(blockProblems(summaryMessage(run).blocks, 'message')).toEqual([]);
    const d: Diagnostics = {
      runId: 'r-big',
      pods: Array.from({ length: 500 }, (_, i) => ({
        name: `checkout-canary-${i}`,
        phase: 'Running',
        ready: false,
        restarts: i,
        reason: 'CrashLoopBackOff',
      })),
      events: Array.from({ length: 500 }, (_, i) => ({ at: `t${i}`, reason: 'BackOff', message: 'm'.repeat(300), object: `pod/${i}` })),
      metrics: Array.from({ length: 100 }, (_, i) => ({ metric: `m${i}`, candidate: '1', baseline: '2', delta: '-1' })),
      failingChecks: Array.from({ length: 100 }, (_, i) => `check ${i} ${'f'.repeat(100)}`),
      logTail: Array.from({ length: 300 }, (_, i) => `log ${i} \`\`\` ${'l'.repeat(100)}`),
      summary: 'S'.repeat(5000),
    };
    const msg = investigateMessage(run, d);
    expect(blockProblems(msg.blocks, 'message')).toEqual([]);
    // Three parts, 12 lines at most, whatever was collected; the rest goes in the file.
    const lines = textOf({ text: '', blocks: msg.blocks } as never)
      .split('\n')
      .filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines[1]).toMatch(/^\*What failed:\*/);
    expect(lines.at(-1)).toMatch(/^\*Next:\*/);
    expect(diagnosticsMarkdown(run, d)).toContain('checkout-canary-499');
  });

  it('the request reply carries the request in its buttons within 2000 characters', () => {
    const msg = requestReply(request, { strategy: 'canary', rationale: 'r'.repeat(4000) });
    expect(blockProblems(msg.blocks, 'message')).toEqual([]);
    const value = encodeRequest(request);
    expect(value.length).toBeLessThanOrEqual(LIMITS.buttonValue);
    expect(DeployRequest.parse(JSON.parse(value)).service).toBe('checkout');
  });

  it("says how long a run took in wall-clock time: the demo clock's 58 minutes are 58 seconds, said once", () => {
    const run = { createdAt: 0, updatedAt: 58 * 60_000 };
    expect(tookWords(run, 60)).toBe('58 s (demo clock 60× faster)');
    expect(tookWords(run)).toBe('58 min');
    expect(tookWords({ createdAt: 0, updatedAt: 45_000 })).toBe('45 s');
  });

  it('the recommendation names the strategy once: no "canary — Canary: asked for canary"', () => {
    const msg = requestReply({ ...request, strategy: 'canary' }, recommend({ ...request, strategy: 'canary' }, shippedConfig));
    const text = textOf({ text: '', blocks: msg.blocks } as never);
    expect(text).toMatch(/\*Recommended strategy:\* canary — /);
    expect(text).not.toMatch(/canary — canary/i);
    expect(text).not.toMatch(/asked for canary/i);
  });

  it('a scheduled request says it cannot be scheduled from Slack and offers Start now', () => {
    const scheduled = DeployRequest.parse({
      intent: 'deploy',
      service: 'checkout',
      version: 'v1.2.3',
      scheduledAt: '2026-11-24T02:00:00.000Z',
    });
    const msg = requestReply(scheduled, undefined);
    expect(textOf({ text: '', blocks: msg.blocks } as never)).toMatch(/cannot schedule a deploy from Slack yet/);
    const actions = msg.blocks.find((b) => b.type === 'actions') as { elements: Array<{ text: { text: string } }> };
    expect(actions.elements.map((e) => e.text.text)).toEqual(['Configure…', 'Start now', 'Cancel']);
  });

  it('the modal stays within view limits with long guidance and metadata, and its metadata reads back', () => {
    const input = modalFor(request, shippedConfig, { channel: 'C0DEPLOYS', threadTs: '1.1', replyTs: '1.2' });
    const view = deployModal({ ...input, metadata: { ...input.metadata, rationale: 'r'.repeat(5000) } });
    expect(viewProblems(view)).toEqual([]);
    expect(decodeMetadata(view.private_metadata as string)?.channel).toBe('C0DEPLOYS');
    const long = deployModal({ ...input, answers: { ...input.answers, service: 'a-very-long-service-name-indeed' } });
    expect((long.title as { text: string }).text.length).toBeLessThanOrEqual(LIMITS.modalTitle);
  });
});
