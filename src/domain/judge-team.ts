// The team's own metrics as gates (`services[].gates`): one reading of each, judged by its rules.
// Pure. Missing or unreadable data is never a pass: it asks a person.
import type { TeamGateConfig } from './config-schema.js';
import type { Finding } from './judge-core.js';

/** What one gate read in a window: the new version's value and what it is compared with. */
export interface TeamGateReading {
  gate: string;
  /** The PromQL behind the numbers, as sent (the report shows it). */
  query: string;
  /** `track`: the new version's track against the live one now; `before-after`: the service before the rollout against now. */
  mode: 'track' | 'before-after';
  candidate?: number;
  baseline?: number;
  /** Why a side could not be read (no series, a query error, no Prometheus). */
  failure?: string;
  /** GOOD, or the rule it broke. */
  status: 'GOOD' | 'BREACH' | 'NO DATA';
  changePct?: number;
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

/**
 * Judges one reading. `shares` (0..1) scale a `perShare` count to what the track would have with
 * all the traffic, so a canary at 5% is not "95% fewer users".
 */
export function judgeTeamGate(
  g: TeamGateConfig,
  read: { query: string; mode: TeamGateReading['mode']; candidate?: number; baseline?: number; failure?: string },
  shares: { candidate: number; baseline: number } = { candidate: 1, baseline: 1 },
): { finding: Finding; reading: TeamGateReading } {
  const sides = read.mode === 'track' ? ['new version', 'live version'] : ['now', 'before the rollout'];
  const rule = `gate ${g.name}`;
  const breach = g.onBreach === 'rollback' ? 'ROLLBACK' : 'INCONCLUSIVE';
  const base: TeamGateReading = { gate: g.name, query: read.query, mode: read.mode, status: 'NO DATA' };
  const needsBaseline = g.maxDropPct !== undefined || g.maxRisePct !== undefined;
  if (read.candidate === undefined || (needsBaseline && read.baseline === undefined)) {
    const why = read.failure ?? 'the query returned nothing';
    return {
      finding: { rule, verdict: 'INCONCLUSIVE', detail: `${g.name}: no data (${why}); a person decides` },
      reading: { ...base, ...pick(read), failure: why },
    };
  }
  const cand = g.perShare ? read.candidate / Math.max(0.001, shares.candidate) : read.candidate;
  const broken: string[] = [];
  if (g.min !== undefined && read.candidate < g.min) broken.push(`below the minimum ${num(g.min)}`);
  if (g.max !== undefined && read.candidate > g.max) broken.push(`above the maximum ${num(g.max)}`);
  let changePct: number | undefined;
  let against = '';
  if (needsBaseline) {
    const b = g.perShare ? read.baseline! / Math.max(0.001, shares.baseline) : read.baseline!;
    if (!(b > 0))
      return {
        finding: { rule, verdict: 'INCONCLUSIVE', detail: `${g.name}: the baseline ${sides[1]} is ${num(b)}, nothing to compare with` },
        reading: { ...base, ...pick(read), failure: 'baseline is zero' },
      };
    changePct = ((cand - b) / b) * 100;
    const per = g.perShare ? ' per share of traffic' : '';
    against = ` vs ${num(b)} ${sides[1]}${per} (${changePct >= 0 ? '+' : ''}${changePct.toFixed(0)}%`;
    if (g.maxDropPct !== undefined && -changePct > g.maxDropPct)
      broken.push(`a drop of ${(-changePct).toFixed(0)}% > ${g.maxDropPct}% allowed`);
    if (g.maxRisePct !== undefined && changePct > g.maxRisePct)
      broken.push(`a rise of ${changePct.toFixed(0)}% > ${g.maxRisePct}% allowed`);
    against += ')';
  }
  const detail = `${g.name} ${num(cand)} ${sides[0]}${against} over ${g.windowMin} min`;
  const reading: TeamGateReading = {
    ...base,
    ...pick(read),
    status: broken.length ? 'BREACH' : 'GOOD',
    ...(changePct !== undefined ? { changePct } : {}),
  };
  return {
    finding: broken.length ? { rule, verdict: breach, detail: `${detail}: ${broken.join(', ')}` } : { rule, verdict: 'CONTINUE', detail },
    reading,
  };
}

function pick(r: { candidate?: number; baseline?: number }): Pick<TeamGateReading, 'candidate' | 'baseline'> {
  return {
    ...(r.candidate !== undefined ? { candidate: r.candidate } : {}),
    ...(r.baseline !== undefined ? { baseline: r.baseline } : {}),
  };
}

/** Whether a query tells tracks apart (then each track is read on its own). */
export function selectsTrack(query: string): boolean {
  return /\{\{\s*(track|version|podHash)\s*\}\}/.test(query);
}
