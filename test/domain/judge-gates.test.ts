// The team's gates and resource use, judged from one reading each: every rule, per share of
// traffic, and never a pass on missing data.
import { describe, expect, it } from 'vitest';
import { judgeResource } from '../../src/domain/judge-resources.js';
import { judgeTeamGate, selectsTrack } from '../../src/domain/judge-team.js';
import type { TeamGateConfig } from '../../src/domain/config-schema.js';

const gate = (over: Partial<TeamGateConfig> = {}): TeamGateConfig => ({
  name: 'conversion rate',
  query: 'q',
  maxDropPct: 20,
  windowMin: 15,
  perShare: false,
  onBreach: 'rollback',
  ...over,
});
const track = (candidate?: number, baseline?: number, failure?: string) => ({
  query: 'q',
  mode: 'track' as const,
  ...(candidate !== undefined ? { candidate } : {}),
  ...(baseline !== undefined ? { baseline } : {}),
  ...(failure ? { failure } : {}),
});

describe('a team gate', () => {
  it('rolls back on a drop beyond the allowed one, and passes one within it', () => {
    const bad = judgeTeamGate(gate(), track(0.225, 0.3));
    expect(bad.finding.verdict).toBe('ROLLBACK');
    expect(bad.finding.detail).toBe(
      'conversion rate 0.225 new version vs 0.300 live version (-25%) over 15 min: a drop of 25% > 20% allowed',
    );
    expect(bad.reading.status).toBe('BREACH');
    expect(bad.reading.changePct).toBeCloseTo(-25);
    const fine = judgeTeamGate(gate(), track(0.27, 0.3));
    expect(fine.finding.verdict).toBe('CONTINUE');
    expect(fine.reading.status).toBe('GOOD');
  });

  it('asks instead when the team said so, and for a rise, a minimum or a maximum as configured', () => {
    expect(judgeTeamGate(gate({ onBreach: 'ask' }), track(0.1, 0.3)).finding.verdict).toBe('INCONCLUSIVE');
    expect(judgeTeamGate(gate({ maxDropPct: undefined, maxRisePct: 10 }), track(0.4, 0.3)).finding.detail).toMatch(
      /a rise of 33% > 10% allowed/,
    );
    expect(judgeTeamGate(gate({ maxDropPct: undefined, min: 0.25 }), track(0.2)).finding.detail).toMatch(/below the minimum 0\.250$/);
    expect(judgeTeamGate(gate({ maxDropPct: undefined, max: 10 }), track(12)).finding.verdict).toBe('ROLLBACK');
    // An absolute rule needs no baseline.
    expect(judgeTeamGate(gate({ maxDropPct: undefined, max: 10 }), track(3)).finding.verdict).toBe('CONTINUE');
  });

  it('compares a count per share of traffic: a canary at 5% does not have "95% fewer users"', () => {
    const users = gate({ name: 'active users', maxDropPct: 30, perShare: true });
    expect(judgeTeamGate(users, track(300, 5700), { candidate: 0.05, baseline: 0.95 }).finding.verdict).toBe('CONTINUE');
    expect(judgeTeamGate(users, track(150, 5700), { candidate: 0.05, baseline: 0.95 }).finding.verdict).toBe('ROLLBACK');
  });

  it('is never a pass without data: nothing returned, an unreadable source, or a zero baseline asks a person', () => {
    expect(judgeTeamGate(gate(), track(undefined, 0.3)).finding).toMatchObject({
      verdict: 'INCONCLUSIVE',
      detail: 'conversion rate: no data (the query returned nothing); a person decides',
    });
    expect(judgeTeamGate(gate(), track(0.3, undefined, 'timeout: no answer')).finding.detail).toMatch(/no data \(timeout: no answer\)/);
    expect(judgeTeamGate(gate(), track(0.3, 0)).finding.verdict).toBe('INCONCLUSIVE');
    expect(judgeTeamGate(gate({ onBreach: 'rollback' }), track()).reading.status).toBe('NO DATA');
  });

  it('is read per track when its query selects one', () => {
    expect(selectsTrack('sum(x{track="{{track}}"})')).toBe(true);
    expect(selectsTrack('sum(x{version="{{ version }}"})')).toBe(true);
    expect(selectsTrack('sum(x{service="{{service}}"})')).toBe(false);
  });
});

describe('a ratio gate with counts', () => {
  const counted = gate({ counts: { successes: 'orders', trials: 'checkouts' } });
  const withCounts = (c: [number, number], b: [number, number]) => ({
    ...track(c[0] / c[1], b[0] / b[1]),
    counts: { candidate: { successes: c[0], trials: c[1] }, baseline: { successes: b[0], trials: b[1] } },
  });

  it('rolls back on a drop beyond the rule that is significant, naming the counts and p', () => {
    const d = judgeTeamGate(counted, withCounts([450, 2000], [1800, 6000]));
    expect(d.finding.verdict).toBe('ROLLBACK');
    expect(d.finding.detail).toBe(
      'conversion rate 0.225 new version vs 0.300 live version (-25%) over 15 min (p<0.001 over 450 of 2000 vs 1800 of 6000): a drop of 25% > 20% allowed',
    );
    expect(d.reading).toMatchObject({ status: 'BREACH' });
    expect(d.reading.pValue).toBeLessThan(0.001);
  });

  it('asks, never passes, when the same drop rests on too few conversions to tell from chance', () => {
    const d = judgeTeamGate(counted, withCounts([9, 40], [1800, 6000]));
    expect(d.finding.verdict).toBe('INCONCLUSIVE');
    expect(d.finding.detail).toMatch(
      /^conversion rate 0\.225 new version vs 0\.300 live version \(-25%\) over 15 min \(p=0\.\d{3} over 9 of 40 vs 1800 of 6000\): beyond the rule but not yet significant; a person decides$/,
    );
    expect(d.reading.status).toBe('UNCLEAR');
  });

  it('tests a rise on the conversions themselves, and a change within the rule needs no test', () => {
    const rise = judgeTeamGate(
      gate({ maxDropPct: undefined, maxRisePct: 10, counts: counted.counts }),
      withCounts([700, 2000], [1800, 6000]),
    );
    expect(rise.finding.verdict).toBe('ROLLBACK');
    expect(rise.reading.pValue).toBeLessThan(0.01);
    const fine = judgeTeamGate(counted, withCounts([580, 2000], [1800, 6000]));
    expect(fine.finding.verdict).toBe('CONTINUE');
    expect(fine.reading.pValue).toBeUndefined();
  });

  it('counts that cannot be read leave the breach on the ratio alone, and say so', () => {
    const d = judgeTeamGate(counted, { ...track(0.225, 0.3), counts: { candidate: { successes: 450, trials: 2000 } } });
    expect(d.finding.verdict).toBe('ROLLBACK');
    expect(d.finding.detail).toContain('(its counts could not be read: judged on the ratio alone)');
  });
});

describe('resource use', () => {
  const MiB = 1024 * 1024;
  it('is GOOD, WARNING or CRITICAL against the previous version, and only a limit rolls back', () => {
    expect(judgeResource('memory', { query: 'q', candidate: 130 * MiB, baseline: 128 * MiB }, {}).reading.status).toBe('GOOD');
    const warn = judgeResource('memory', { query: 'q', candidate: 160 * MiB, baseline: 128 * MiB }, {});
    expect(warn.reading).toMatchObject({ status: 'WARNING', why: '25% more than the previous version' });
    const crit = judgeResource('cpu', { query: 'q', candidate: 0.2, baseline: 0.1 }, {});
    expect(crit.reading.status).toBe('CRITICAL');
    expect(crit.finding.verdict).toBe('CONTINUE'); // reported: no limit configured
    const over = judgeResource('memory', { query: 'q', candidate: 200 * MiB, baseline: 128 * MiB }, { memoryLimitMiB: 180 });
    expect(over.finding).toMatchObject({
      verdict: 'ROLLBACK',
      detail: 'memory 200 MiB per pod vs 128 MiB previous version: CRITICAL (over the 180 MiB limit)',
    });
    expect(judgeResource('memory', { query: 'q', candidate: 150 * MiB }, { memoryLimitMiB: 180 }).reading.why).toBe(
      'above 80% of the 180 MiB limit',
    );
  });

  it('unread with a limit asks; unread without one is reported as NO DATA', () => {
    expect(judgeResource('cpu', { query: 'q', failure: 'no-data: empty' }, { cpuLimitCores: 1 }).finding.verdict).toBe('INCONCLUSIVE');
    const free = judgeResource('cpu', { query: 'q' }, {});
    expect(free.finding.verdict).toBe('CONTINUE');
    expect(free.reading.status).toBe('NO DATA');
  });
});
