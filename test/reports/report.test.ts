import type { EndedPhase } from '../../src/domain/run.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { planFor, rolloutStateFor } from '../helpers/plan.js';
import type { MetricSample } from '../../src/domain/types.js';
import { investigateBriefing } from '../../src/reports/investigate.js';
import { renderIncident, renderReport, stakeholderSummary, deterministicLessons, userImpact } from '../../src/reports/report.js';
import { writeRunReports, writeSummary } from '../../src/reports/write.js';
import { toView } from '../../src/runner/runner.js';
import type { AuditRecord, RunRecord } from '../../src/store/records.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-reports-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan = planFor({ version: 'v1.2.3-errors', rationale: 'stateless, spare capacity' });
const sample = (errorRate: number, p99Ms: number): MetricSample => ({
  at: 0,
  windowSec: 10,
  requests: 1000,
  errorRate,
  p50Ms: 20,
  p95Ms: 80,
  p99Ms,
  throughputRps: 100,
});
const t0 = Date.UTC(2026, 10, 23, 14, 0);

function rolledBack(): RunRecord {
  return {
    id: 'r-test1',
    service: 'checkout',
    environment: 'production',
    version: plan.version,
    strategy: 'canary',
    plan,
    request: { intent: 'deploy', environment: 'production', focus: [], missing: [], suggestions: [], notes: [] },
    phase: {
      status: 'rolled-back',
      outcome: 'rolled back: canary error rate 8.10% vs 0.20% baseline',
      keptLock: 'an automatic rollback (run r-test1: canary error rate 8.10% vs 0.20% baseline)',
      rollback: {
        reason: 'canary error rate 8.10% vs 0.20% baseline',
        by: 'shipbot',
        at: t0 + 61_000,
        automatic: true,
        verification: { ok: true, oldTrafficPct: 100, detail: 'v1.2.2 serves 100%' },
      },
    },
    restarts: [],
    requester: { userId: 'U1', name: 'ada' },
    origin: { kind: 'terminal' },
    targets: [
      {
        environment: 'production',
        rollout: rolloutStateFor('canary', {
          previousImage: 'registry.example.com/shop/checkout:v1.2.2',
          newImage: 'registry.example.com/shop/checkout:v1.2.3-errors',
        }),
        baseline: sample(0.002, 120),
        smoke: [{ name: 'health', ok: true, critical: true, detail: '200 in 3 ms' }],
        decisions: [
          {
            step: 'stage:canary-5',
            at: t0 + 60_000,
            decision: {
              verdict: 'ROLLBACK',
              explanation: 'canary error rate 8.10% vs 0.20% baseline',
              findings: [{ rule: 'error-rate', verdict: 'ROLLBACK', detail: '8.10% vs 0.20%' }],
            },
            candidate: sample(0.081, 130),
            baseline: sample(0.002, 120),
          },
        ],
      },
    ],
    steps: [
      { key: 'validate', title: 'Pre-deployment validation', status: 'done', detail: '5 checks passed', startedAt: t0, endedAt: t0 + 1000 },
      {
        key: 'stage:canary-5',
        title: 'Canary 5%',
        status: 'failed',
        detail: 'error rate 8.10% vs 0.20%',
        startedAt: t0 + 2000,
        endedAt: t0 + 62_000,
      },
      {
        key: 'rollback',
        title: 'Rollback',
        status: 'done',
        detail: 'traffic back on v1.2.2',
        startedAt: t0 + 62_000,
        endedAt: t0 + 63_000,
      },
      { key: 'report', title: 'Report', status: 'running', startedAt: t0 + 64_000 },
    ],
    data: {
      validation: [{ name: 'cluster health', ok: true, detail: 'nodes Ready', severity: 'error' }],
    },
    createdAt: t0,
    updatedAt: t0 + 64_000,
  };
}

const audit: AuditRecord[] = [
  { id: 1, runId: 'r-test1', at: t0, actor: 'ada (U1)', action: 'start', detail: 'checkout v1.2.3-errors' },
  { id: 2, runId: 'r-test1', at: t0 + 61_000, actor: 'shipbot', action: 'automatic-rollback', detail: 'error rate' },
];

describe('reports', () => {
  it('has every section of the flow, with baseline vs after and the rollback details', () => {
    const rec = rolledBack();
    const md = renderReport(rec, audit, deterministicLessons(rec));
    const sections = [...md.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
    expect(sections).toEqual([
      'Overview',
      'Timeline',
      'Pre-deployment validation',
      'Regression gates',
      'Strategy details',
      'SLO metrics: baseline vs after',
      'Smoke results',
      'Issues',
      'Rollback details',
      'Lessons learned',
    ]);
    expect(md).toContain('| error rate | 0.2% | 8.1% | +7.9 pts | ≤ 1% | CRITICAL |');
    expect(md).toContain('| p99 latency | 120 ms | 130 ms | +8% | ≤ 400 ms | GOOD |');
    expect(md).toContain('registry.example.com/shop/checkout:v1.2.2 → registry.example.com/shop/checkout:v1.2.3-errors');
    expect(md).toMatch(/Trigger: automatic/);
    expect(md).toMatch(/checkout stays locked in production after an automatic rollback \(run r-test1: .*\), until someone unlocks it/);
    expect(md).toMatch(/2026-11-23 14:01:01Z shipbot: automatic-rollback/);
    expect(md).toMatch(/- ❌ Canary 5%: error rate 8.10% vs 0.20%/);
  });

  it("says times and durations as people lived them when the run's clock ran faster (the demo)", () => {
    const rec = rolledBack();
    // The demo clock ran 60× faster and ahead of the wall: its moments map back to wall-clock ones.
    const wallStart = Date.UTC(2026, 11, 7, 8, 0, 0);
    const clock = { wall: (m: number) => wallStart + (m - t0) / 60, speed: 60 };
    const md = renderReport(rec, audit, deterministicLessons(rec), { clock });
    expect(md).toContain('| Duration | 1s (demo clock 60× faster) |');
    expect(md).toContain('| Started | 2026-12-07 08:00:00Z |');
    expect(md).toMatch(/- 2026-12-07 08:00:01Z shipbot: automatic-rollback/);
    // With Prometheus behind the numbers, the templates are listed under the SLO table.
    const withQueries = renderReport(rec, audit, [], { queries: { errorRate: 'sum(rate(x{track="{{track}}"}[{{window}}]))' } });
    expect(withQueries).toMatch(
      /\| requests measured .*\n\nRead from Prometheus with these templates.*\n\n- errorRate: `sum\(rate\(x\{track="\{\{track\}\}"\}\[\{\{window\}\}\]\)\)`\n/,
    );
    expect(md).not.toContain('Read from Prometheus');
    expect(renderIncident(rec, audit, undefined, { clock })).toMatch(/Detected: 2026-12-07 08:00:01Z/);
  });

  it('a release stopped at its staging rehearsal: the report speaks of staging and never contradicts the record', () => {
    const rec = rolledBack();
    const staged = sample(0.05, 130);
    const prodLive = [sample(0.002, 120), sample(0.002, 121)];
    const staging: RunRecord = {
      ...rec,
      // Rolled back in staging: production never touched, its lock released with the run.
      phase: {
        status: 'rolled-back',
        outcome: 'staging regression gate: error rate 5.00% vs 0.20%',
        rollback: (rec.phase as EndedPhase).rollback!,
      },
      targets: [
        {
          environment: 'staging',
          touchedAt: t0 + 2000,
          rollout: rolloutStateFor('rolling'),
          reference: { samples: prodLive },
          decisions: [
            {
              step: 'staging-gate',
              at: t0 + 60_000,
              decision: {
                verdict: 'ROLLBACK',
                explanation: 'error rate 5.00% vs 0.20%',
                findings: [
                  { rule: 'error-rate', verdict: 'ROLLBACK', detail: '5.00% vs 0.20% over 1 sample' },
                  { rule: 'samples', verdict: 'INCONCLUSIVE', detail: 'too few samples: 1 of the 5 needed' },
                ],
              },
              candidate: staged,
            },
          ],
        },
        { environment: 'production' },
      ],
    };
    const md = renderReport(staging, audit, deterministicLessons(staging));
    expect(md).toContain('checkout in production was released');
    expect(md).not.toMatch(/stays locked/);
    expect(md).not.toMatch(/No baseline traffic was measured/);
    expect(md).toContain("## SLO metrics: baseline vs after (in staging, against production's live version)");
    expect(md).toContain('| error rate | 0.2% | 5.0% | +4.8 pts | ≤ 1% | CRITICAL |');
    expect(md).toMatch(/❌ staging-gate — error-rate: 5.00% vs 0.20% over 1 sample/);
    expect(md).not.toMatch(/too few samples/);
    const incident = renderIncident(staging, audit);
    expect(incident).toMatch(/^# Incident: checkout v1\.2\.3-errors rolled back in staging/);
    expect(incident).not.toMatch(/Unlock checkout/);
    // Names, not ids: the audit trail and the timeline say "ada", the store's audit log keeps U1.
    expect(`${md}\n${incident}`).not.toMatch(/\(U1\)/);
    expect(md).toMatch(/ada: start/);
  });

  it('writes the report and an incident report, using the summarise hook when it answers and falling back when it throws', async () => {
    const rec = rolledBack();
    const asked: string[] = [];
    const files = await writeRunReports(toView(rec), rec, audit, dir, async (kind) => {
      asked.push(kind);
      if (kind === 'incident') throw new Error('LLM down');
      return kind === 'lessons' ? 'Run the error-rate check in staging first.' : undefined;
    });
    const summary = await writeSummary(rec, async (kind) => {
      asked.push(kind);
      return undefined;
    });
    expect(asked.sort()).toEqual(['incident', 'lessons', 'stakeholder']);
    expect(readFileSync(files.report, 'utf8')).toContain('- Run the error-rate check in staging first.');
    expect(readFileSync(files.incident!, 'utf8')).toMatch(/^# Incident: checkout v1\.2\.3-errors rolled back in production/);
    expect(summary).toMatch(/^↩️ checkout v1\.2\.3-errors → production \(canary\): rolled back automatically/);
  });

  it('tells stakeholders what users saw of a rollback: the share and how long, or that production was never touched', () => {
    const rec = rolledBack();
    expect(stakeholderSummary({ ...toView(rec), data: rec.data })).toMatch(
      /rolled back automatically — canary error rate 8\.10% vs 0\.20% baseline\. About 5% of users got v1\.2\.3-errors for 1 minute; the previous version serves everyone again\.$/,
    );
    const staging = {
      ...rec,
      steps: [
        { key: 'staging-gate', title: 'Staging regression gate', status: 'failed' as const },
        ...rec.steps.filter((s) => !s.key.startsWith('stage:')),
      ],
    };
    expect(userImpact(staging)).toBe('Production was never touched: no user got the new version.');
    const cutover = {
      ...rec,
      steps: [
        { key: 'stage:cutover', title: 'cutover', status: 'failed' as const, startedAt: t0 },
        ...rec.steps.filter((s) => !s.key.startsWith('stage:')),
      ],
    };
    expect(userImpact(cutover)).toMatch(/^All users got v1\.2\.3-errors for 1 minute/);
  });

  it('Investigate says what to do next from where things stand now: locked, or unlocked since', () => {
    const rec = rolledBack();
    const view = toView({ ...rec, phase: { ...(rec.phase as EndedPhase), keptLock: 'an automatic rollback (run r-test1: …)' } });
    const d = {
      runId: 'r-test1',
      pods: [],
      events: [],
      metrics: [{ metric: 'error rate', candidate: '8.10%', baseline: '0.20%', delta: '7.90 pts' }],
      failingChecks: [],
      logTail: [],
      findings: [{ rule: 'error-rate', verdict: 'ROLLBACK' as const, detail: '8.10% vs 0.20%' }],
    };
    const locked = investigateBriefing(view, { ...d, stillLocked: true });
    expect(locked[1]).toBe('*What failed:* Canary 5% failed: error rate 8.10% vs 0.20%.');
    expect(locked).toContain('• error rate: 8.10% vs 0.20% baseline (7.90 pts)');
    expect(locked.at(-1)).toMatch(/^\*Next:\* Production is back on the previous version and locked\. .*presses \*Unlock\*/);
    expect(investigateBriefing(view, { ...d, stillLocked: false }).at(-1)).toBe(
      '*Next:* Production is back on the previous version. Fix the build, then deploy it again.',
    );
    expect(locked.length).toBeLessThanOrEqual(12);
  });

  it('Investigate after a person rolled back a healthy release says nothing failed and gives no fix-the-build advice', () => {
    const rec = rolledBack();
    const manual = toView({
      ...rec,
      steps: rec.steps.map((s) =>
        s.status === 'failed' ? { ...s, status: 'warning' as const, detail: 'interrupted: rollback requested by ivan' } : s,
      ),
      phase: {
        status: 'rolled-back',
        outcome: 'rollback requested by ivan',
        rollback: { reason: 'rollback requested by ivan', by: 'ivan (U_IC)', at: t0 + 61_000, automatic: false },
      },
    });
    const d = { runId: 'r-test1', pods: [], events: [], metrics: [], failingChecks: [], logTail: [], findings: [] };
    const lines = investigateBriefing(manual, d);
    expect(lines[1]).toMatch(/^\*What failed:\* Nothing failed: rollback requested by ivan/);
    expect(lines.at(-1)).toMatch(/as ivan asked; nothing failed, so there is nothing to fix/);
    expect(lines.join('\n')).not.toMatch(/Fix the build|U_IC/);
  });

  it('gives stakeholders one line per outcome', () => {
    const rec = rolledBack();
    expect(stakeholderSummary({ ...toView(rec), phase: { status: 'succeeded', outcome: '' } })).toMatch(/deployed successfully/);
    expect(stakeholderSummary({ ...toView(rec), phase: { status: 'cancelled', outcome: 'cancelled by U1' } })).toMatch(
      /Nothing changed for users/,
    );
  });
});
