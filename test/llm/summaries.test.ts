import { describe, expect, it } from 'vitest';
import { deterministicSummary, formatSummaryFacts, toSummaryFacts } from '../../src/llm/summaries.js';

// The shape src/reports `reportFacts` passes to the summarise hook.
const reportShaped = {
  service: 'search',
  environment: 'production',
  version: 'v2.1.0-slow',
  strategy: 'canary',
  risk: 'medium',
  status: 'rolled-back',
  outcome: 'p99 820 ms vs 410 ms baseline at canary 25%',
  rollback: { automatic: true, reason: 'p99 latency regression' },
  failedSteps: ['Canary 25%: p99 820 ms vs 410 ms'],
  warnings: ['Smoke tests: critical-path slow'],
  baseline: { p99Ms: 410, errorRate: 0.002 },
};

describe('rule-based summaries', () => {
  it('reads the reports\' fact object, including "title: detail" step lines', () => {
    const f = toSummaryFacts(reportShaped);
    expect(f).toMatchObject({ service: 'search', version: 'v2.1.0-slow', status: 'rolled-back' });
    expect(f.steps).toEqual([
      { title: 'Canary 25%', status: 'failed', detail: 'p99 820 ms vs 410 ms' },
      { title: 'Smoke tests', status: 'warning', detail: 'critical-path slow' },
    ]);
  });

  it('formats facts as labelled lines and keeps unknown fields as JSON', () => {
    const text = formatSummaryFacts(reportShaped);
    expect(text).toContain('step: Canary 25% — failed — p99 820 ms vs 410 ms');
    expect(text).toContain('baseline: {"p99Ms":410,"errorRate":0.002}');
    expect(text).toContain('risk: medium');
  });

  it('writes a plain stakeholder sentence per outcome', () => {
    expect(deterministicSummary('stakeholder', reportShaped)).toBe(
      'search v2.1.0-slow was rolled back; the previous version is serving users again. ' +
        'Reason: p99 820 ms vs 410 ms baseline at canary 25%. The team will investigate before trying again.',
    );
    expect(deterministicSummary('stakeholder', { service: 'checkout', version: 'v1', environment: 'staging', status: 'succeeded' })).toBe(
      'checkout v1 (staging) is now live. No problems were detected during the rollout.',
    );
  });

  it('writes lessons as bullets from what was recorded', () => {
    const text = deterministicSummary('lessons', reportShaped);
    expect(text.split('\n')).toEqual([
      '- The automatic safety net worked: v2.1.0-slow was rolled back because p99 820 ms vs 410 ms baseline at canary 25%.',
      '- Step "Canary 25%" failed (p99 820 ms vs 410 ms); find out why before the next attempt.',
      '- Step "Smoke tests" raised a warning (critical-path slow); worth a look.',
    ]);
  });
});
