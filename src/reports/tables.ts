// The report's tables, one per category (SLOs, smoke checks, team gates, resources): baseline,
// after, change and status, with the numbers formatted as the judge formats them. Pure.
import { fmtResource, type ResourceReading } from '../domain/judge-resources.js';
import type { TeamGateReading } from '../domain/judge-team.js';
import { fmtMs, fmtP, fmtPct } from '../domain/judge-core.js';
import { windowReading } from '../domain/reading.js';
import type { MetricSample } from '../domain/types.js';
import { ownTarget, reachedTarget, type RunRecord, type SmokeRecord } from '../store/records.js';

// The judge's own formatting: a number in a report reads as it does in the verdict and the thread.
export function pct(x: number | undefined): string {
  return x === undefined ? 'n/a' : fmtPct(x);
}

export function ms(x: number | undefined): string {
  return x === undefined ? 'n/a' : fmtMs(x);
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function table(head: string[], rows: string[][]): string {
  if (!rows.length) return '_none_';
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join(
    '\n',
  );
}

/** A change in whole percent with its sign: `+12%`, `-3%`, `n/a`. */
const signedPct = (v: number | undefined) => (v === undefined ? 'n/a' : `${v >= 0 ? '+' : ''}${v.toFixed(0)}%`);

/** The team's gates as last read where the release was judged: each number beside the query behind it. */
export function teamGateRows(rec: RunRecord): string[][] {
  const last = new Map<string, TeamGateReading>();
  for (const d of reachedTarget(rec).decisions ?? []) for (const g of d.gates ?? []) last.set(g.gate, g);
  const n = (v: number | undefined) => (v === undefined ? 'n/a' : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));
  return [...last.values()].map((g) => [
    g.gate,
    n(g.baseline),
    n(g.candidate),
    signedPct(g.changePct),
    g.status === 'NO DATA'
      ? `NO DATA (${g.failure ?? 'nothing returned'})`
      : g.pValue !== undefined
        ? `${g.status} (${fmtP(g.pValue)})`
        : g.status,
    `\`${g.query}\``,
  ]);
}

/** CPU and memory as last read where the release was judged (the worst of each across its windows would hide when). */
export function resourceRowsOf(rec: RunRecord): string[][] {
  const last = new Map<string, ResourceReading>();
  for (const d of reachedTarget(rec).decisions ?? []) for (const r of d.resources ?? []) last.set(r.resource, r);
  const v = (r: ResourceReading, x: number | undefined) => (x === undefined ? 'n/a' : fmtResource(r.resource, x));
  return [...last.values()].map((r) => [
    r.resource === 'cpu' ? 'CPU' : 'memory',
    v(r, r.baseline),
    v(r, r.candidate),
    signedPct(r.changePct),
    `${r.status}${r.why ? ` (${r.why})` : ''}`,
    `\`${r.query}\``,
  ]);
}

/** Each smoke check against the live version before the deploy and the new version after it. */
export function smokeRows(rec: RunRecord): string[][] {
  const mark = (s?: SmokeRecord) => (!s ? '—' : s.ok ? '✓' : s.critical ? '❌' : '⚠️');
  const before = new Map((ownTarget(rec).baselineSmoke ?? []).map((s) => [s.name, s]));
  const after = new Map((ownTarget(rec).smoke ?? []).map((s) => [s.name, s]));
  return [...new Set([...before.keys(), ...after.keys()])].map((name) => [
    name,
    mark(before.get(name)),
    mark(after.get(name)),
    (after.get(name) ?? before.get(name))!.detail,
  ]);
}

/**
 * What the verdicts compared with, where they were made: the target's own baseline, or for a
 * staging rehearsal production's live version (its reference), as the staging gate used it.
 */
export function baselineOf(rec: RunRecord): MetricSample | undefined {
  const t = reachedTarget(rec);
  return t.baseline ?? windowReading(t.reference?.samples ?? []) ?? t.decisions?.at(-1)?.baseline;
}

export function sloRows(rec: RunRecord): string[][] {
  const t = reachedTarget(rec);
  const b = baselineOf(rec);
  const a: MetricSample | undefined = t.after ?? t.decisions?.at(-1)?.candidate;
  const slo = rec.plan.slo;
  // The change as people read it: points for rates, percent for the rest.
  const pts = (x?: number, y?: number) =>
    x === undefined || y === undefined ? 'n/a' : `${y - x >= 0 ? '+' : ''}${((y - x) * 100).toFixed(1)} pts`;
  const rel = (x?: number, y?: number) =>
    x === undefined || y === undefined || !(x > 0) || !Number.isFinite(y)
      ? 'n/a'
      : `${y >= x ? '+' : ''}${(((y - x) / x) * 100).toFixed(0)}%`;
  // Against the SLO where there is one: met or not, never a pass without a number.
  const within = (v: number | undefined, ok: (v: number) => boolean) =>
    v === undefined || !Number.isFinite(v) ? 'NO DATA' : ok(v) ? 'GOOD' : 'CRITICAL';
  return [
    [
      'error rate',
      pct(b?.errorRate),
      pct(a?.errorRate),
      pts(b?.errorRate, a?.errorRate),
      `≤ ${slo.errorRatePct}%`,
      within(a?.errorRate, (v) => v * 100 <= slo.errorRatePct),
    ],
    ['p50 latency', ms(b?.p50Ms), ms(a?.p50Ms), rel(b?.p50Ms, a?.p50Ms), '', ''],
    ['p95 latency', ms(b?.p95Ms), ms(a?.p95Ms), rel(b?.p95Ms, a?.p95Ms), '', ''],
    ['p99 latency', ms(b?.p99Ms), ms(a?.p99Ms), rel(b?.p99Ms, a?.p99Ms), `≤ ${slo.p99Ms} ms`, within(a?.p99Ms, (v) => v <= slo.p99Ms)],
    [
      'throughput',
      b ? `${b.throughputRps.toFixed(1)} rps` : 'n/a',
      a ? `${a.throughputRps.toFixed(1)} rps` : 'n/a',
      rel(b?.throughputRps, a?.throughputRps),
      '',
      '',
    ],
    [
      'availability',
      b ? pct(1 - b.errorRate) : 'n/a',
      a ? pct(1 - a.errorRate) : 'n/a',
      pts(b && 1 - b.errorRate, a && 1 - a.errorRate),
      `≥ ${slo.availabilityPct}%`,
      within(a && 1 - a.errorRate, (v) => v * 100 >= slo.availabilityPct),
    ],
    ['requests measured', b ? String(b.requests) : 'n/a', a ? String(a.requests) : 'n/a', '', '', ''],
  ];
}
