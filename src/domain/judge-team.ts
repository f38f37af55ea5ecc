// The team's own metrics as gates (`services[].gates`): one reading of each, judged by its rules.
// Pure. Missing or unreadable data is never a pass: it asks a person.
import type { TeamGateConfig } from './config-schema.js';
import { DEFAULT_ALPHA, fmtP, type Finding } from './judge-core.js';
import { fisherGreater } from './stats.js';

/** A ratio's numerator and denominator over the gate's window, for its significance. */
export interface GateCounts {
  successes: number;
  trials: number;
}

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
  /** GOOD; BREACH of a rule; UNCLEAR: beyond a rule but not yet significant; NO DATA. */
  status: 'GOOD' | 'BREACH' | 'UNCLEAR' | 'NO DATA';
  changePct?: number;
  /** With counts: how likely a change this large is by chance (one-sided Fisher exact test). */
  pValue?: number;
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3));

/**
 * Judges one reading. `shares` (0..1) scale a `perShare` count to what the track would have with
 * all the traffic, so a canary at 5% is not "95% fewer users".
 */
export function judgeTeamGate(
  g: TeamGateConfig,
  read: {
    query: string;
    mode: TeamGateReading['mode'];
    candidate?: number;
    baseline?: number;
    failure?: string;
    /** Each side's counts when the gate has `counts` and they could be read. */
    counts?: { candidate?: GateCounts; baseline?: GateCounts };
  },
  shares: { candidate: number; baseline: number } = { candidate: 1, baseline: 1 },
  alpha = DEFAULT_ALPHA,
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
  let detail = `${g.name} ${num(cand)} ${sides[0]}${against} over ${g.windowMin} min`;
  // A change beyond the rule, on counts too few to tell it from chance, is asked about: the
  // threshold alone on 12 checkouts would roll back on noise, and passing it would hide a drop.
  const change = broken.findIndex((b) => b.startsWith('a drop') || b.startsWith('a rise'));
  const sig = change >= 0 && g.counts ? significance(read.counts, changePct! < 0) : undefined;
  if (sig) detail += ` (${sig.detail})`;
  const notYet = sig?.p !== undefined && !(sig.p < alpha);
  if (notYet) broken.splice(change, 1);
  const reading: TeamGateReading = {
    ...base,
    ...pick(read),
    status: broken.length ? 'BREACH' : notYet ? 'UNCLEAR' : 'GOOD',
    ...(changePct !== undefined ? { changePct } : {}),
    ...(sig?.p !== undefined ? { pValue: sig.p } : {}),
  };
  const finding: Finding = broken.length
    ? { rule, verdict: breach, detail: `${detail}: ${broken.join(', ')}` }
    : notYet
      ? { rule, verdict: 'INCONCLUSIVE', detail: `${detail}: beyond the rule but not yet significant; a person decides` }
      : { rule, verdict: 'CONTINUE', detail };
  return { finding, reading };
}

/**
 * How likely the ratio's drop (or rise) is by chance: the new side's non-conversions (or
 * conversions) being more frequent than the baseline's, Fisher's exact test on whole counts.
 * Counts that cannot be read leave the breach on the ratio alone, and say so.
 */
function significance(
  counts: { candidate?: GateCounts; baseline?: GateCounts } | undefined,
  drop: boolean,
): { p?: number; detail: string } {
  const c = whole(counts?.candidate);
  const b = whole(counts?.baseline);
  if (!c || !b) return { detail: 'its counts could not be read: judged on the ratio alone' };
  const p = drop
    ? fisherGreater(c.trials - c.successes, c.trials, b.trials - b.successes, b.trials)
    : fisherGreater(c.successes, c.trials, b.successes, b.trials);
  if (!Number.isFinite(p)) return { detail: 'its counts are unusable: judged on the ratio alone' };
  return { p, detail: `${fmtP(p)} over ${c.successes} of ${c.trials} vs ${b.successes} of ${b.trials}` };
}

/** Counts as whole numbers (Prometheus' increase() extrapolates), or undefined when they are not counts. */
function whole(x: GateCounts | undefined): GateCounts | undefined {
  if (!x) return undefined;
  const successes = Math.round(x.successes);
  const trials = Math.round(x.trials);
  return trials > 0 && successes >= 0 && successes <= trials ? { successes, trials } : undefined;
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
