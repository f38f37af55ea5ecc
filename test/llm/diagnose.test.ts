import { describe, expect, it } from 'vitest';
import { diagnose, factsOf } from '../../src/llm/diagnose.js';
import type { Diagnostics } from '../../src/domain/run.js';
import { oomDiagnostics } from './fixtures.js';

const empty: Diagnostics = { runId: 'r', pods: [], events: [], metrics: [], failingChecks: [], logTail: [] };

describe('rule-based Investigate', () => {
  it('numbers the facts and reads OOMKilled on 3 pods as a memory limit problem', () => {
    const d = oomDiagnostics();
    const facts = factsOf(d);
    expect(facts[0]).toEqual({
      id: 'F1',
      text: 'pod checkout-canary-a1 (v1.2.4-oom): phase Running, not ready, 4 restarts, reason OOMKilled',
    });
    const r = diagnose(d, facts);
    expect(r.likelyCause).toMatch(/^OOMKilled on 3 pods of v1\.2\.4-oom → the memory limit/);
    expect(r.evidence).toEqual(expect.arrayContaining(['F1', 'F2', 'F3']));
    expect(r.nextSteps.join(' ')).toMatch(/memory limit/);
    expect(r.summary).toMatch(/error rate up \(6\.1% vs 0\.2%\)/);
  });

  it('reads ImagePullBackOff as a missing tag', () => {
    const d: Diagnostics = {
      ...empty,
      pods: [{ name: 'search-canary-1', phase: 'Pending', ready: false, restarts: 0, reason: 'ImagePullBackOff', version: 'v2-missing' }],
    };
    const r = diagnose(d);
    expect(r.likelyCause).toMatch(/image could not be pulled/);
    expect(r.nextSteps[0]).toMatch(/pushed to the registry/);
    expect(r.evidence).toEqual(['F1']);
  });

  it('reads CrashLoopBackOff as a start-up crash and names the pod to read logs from', () => {
    const d: Diagnostics = {
      ...empty,
      pods: [{ name: 'pay-c-1', phase: 'Running', ready: false, restarts: 7, reason: 'CrashLoopBackOff', version: 'v3-crash' }],
    };
    const r = diagnose(d);
    expect(r.likelyCause).toMatch(/crashes after starting \(CrashLoopBackOff on 1 pod of v3-crash\)/);
    expect(r.nextSteps.join(' ')).toContain('kubectl logs pay-c-1 --previous');
  });

  it('reads failing smoke checks and slower latency', () => {
    const d: Diagnostics = {
      ...empty,
      failingChecks: ['smoke critical-path: expected 200, got 500'],
      metrics: [
        { metric: 'p99 latency', candidate: '820 ms', baseline: '410 ms', delta: '+100%' },
        { metric: 'error rate', candidate: '0.2%', baseline: '0.2%', delta: '0 pts' },
      ],
    };
    const r = diagnose(d);
    expect(r.likelyCause).toMatch(/Smoke checks fail: critical-path/);
    expect(r.summary).toMatch(/p99 latency up/);
    expect(r.summary).not.toMatch(/error rate up/);
  });

  it('does not call failed rollout rules smoke checks, and puts the metric that moved first', () => {
    const d: Diagnostics = {
      ...empty,
      failingChecks: ['error-rate: error rate 6.9% on new version vs 0.2% baseline (+6.7 pts > 2 pts allowed)'],
      metrics: [{ metric: 'error rate', candidate: '6.9%', baseline: '0.2%', delta: '+6.7 pts' }],
    };
    const r = diagnose(d);
    expect(r.likelyCause).toMatch(/fails more requests than the baseline/);
    expect(r.summary).toMatch(/1 rollout check not passing/);
    expect(r.summary).not.toMatch(/smoke/i);
  });

  it('says so plainly when nothing stands out', () => {
    expect(diagnose(empty).likelyCause).toBe('No clear cause in the collected facts.');
    expect(diagnose(empty).summary).toBe('No diagnostics were collected.');
  });

  it('keeps only the most recent log lines and flattens them', () => {
    const d: Diagnostics = { ...empty, logTail: Array.from({ length: 30 }, (_, i) => `line ${i}\nsecond part`) };
    const facts = factsOf(d);
    expect(facts).toHaveLength(20);
    expect(facts[0]!.text).toBe('log: line 10 second part');
  });
});
