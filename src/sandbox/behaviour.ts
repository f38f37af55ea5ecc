// How a version behaves, decided by its image tag (the fault tables in DESIGN.md). Pure.
// Plain tags keep their meaning (`-errors` 8%, `-slow` 2×); graded parts combine:
// `-errorsN` (N% 5xx), `-slowX` (every quantile × X), `-tailX` (the slowest 5% × X),
// `-noisy` (healthy on average, ~3× the per-tick jitter), `-lateN` (what follows begins N
// sandbox minutes after the pod is Ready), e.g. `v2.1.0-late6-errors7`; the business and resource
// faults `-convdropN` (N% fewer checkouts convert) and `-memleak` (memory grows while it runs).
import { imageTag } from './objects.js';

export type Fault = 'none' | 'errors' | 'slow' | 'crash' | 'oom' | 'missing' | 'smokefail';

export interface Behaviour {
  fault: Fault;
  /** Fraction of requests answered with a 5xx. */
  errorRate: number;
  /** Median latency in ms; the latency distribution is log-normal around it. */
  medianMs: number;
  /** Log-normal shape: p99/p50 = exp(2.326 σ). */
  sigma: number;
  /** Whether the container ever becomes Ready. */
  becomesReady: boolean;
  /** The slowest 5% of requests take this many times longer (1: no tail fault). */
  tailFactor: number;
  /** Per-tick jitter of error rate and latency, × the baseline's (1 normally, 3 for `-noisy`). */
  jitter: number;
  /** Fraction of checkouts that no longer convert (`-convdropN`: N%; plain `-convdrop`: 25%). */
  conversionDrop: number;
  /** Memory grows while the pod runs (`-memleak`). */
  memLeak: boolean;
}

/** Baseline: ≈0.2% errors, p50 ≈ 40 ms, p99 ≈ 120 ms (σ = ln 3 / 2.326). */
export const BASELINE = { errorRate: 0.002, medianMs: 40, sigma: Math.log(3) / 2.326 } as const;

const FAULTS: Array<[suffix: string, fault: Fault]> = [
  ['-missing', 'missing'],
  ['-crash', 'crash'],
  ['-oom', 'oom'],
  ['-errors', 'errors'],
  ['-slow', 'slow'],
  ['-smokefail', 'smokefail'],
];

export function faultOfTag(tag: string): Fault {
  const t = tag.toLowerCase();
  for (const [suffix, fault] of FAULTS) if (t.includes(suffix)) return fault;
  return 'none';
}

const NUM = '(\\d+(?:\\.\\d+)?)';
const graded = (name: string) => new RegExp(`-${name}${NUM}?(?=-|$)`);

/** The number after a graded part (`-errors2.5` → 2.5), undefined without one, null when the part is absent. */
function part(tag: string, name: string): number | undefined | null {
  const m = graded(name).exec(tag);
  if (!m) return null;
  return m[1] === undefined ? undefined : Number(m[1]);
}

/**
 * How a Job's pod of this image ends (a migration): `-migfail` exits 1, `-mighang` never exits,
 * a crashing build fails; anything else completes. A Deployment's pods of the same tag serve normally.
 */
export function completionOf(image: string): 'succeeds' | 'fails' | 'hangs' {
  const tag = imageTag(image).toLowerCase();
  if (/-mighang(?=-|$)/.test(tag)) return 'hangs';
  if (/-migfail(?=-|$)/.test(tag) || faultOfTag(tag) === 'crash' || faultOfTag(tag) === 'oom') return 'fails';
  return 'succeeds';
}

/** Minutes after Ready at which the tag's fault begins (`-late6`); 0 when it has none. */
export function lateOnsetMin(image: string): number {
  return part(imageTag(image).toLowerCase(), 'late') ?? 0;
}

/**
 * How a version behaves `readyForMs` after its pod became Ready (only `-lateN` cares). Faults
 * that stop a pod becoming Ready (crash, oom, missing) act at once.
 */
export function behaviourOf(image: string, readyForMs = Infinity): Behaviour {
  const tag = imageTag(image).toLowerCase();
  const fault = faultOfTag(tag);
  const b: Behaviour = { fault, ...BASELINE, becomesReady: true, tailFactor: 1, jitter: 1, conversionDrop: 0, memLeak: false };
  if (fault === 'crash' || fault === 'oom' || fault === 'missing') return { ...b, becomesReady: false };
  if (readyForMs < lateOnsetMin(image) * 60_000) return { ...b, fault: 'none' };
  const errors = part(tag, 'errors');
  if (errors !== null) b.errorRate = errors === undefined ? 0.08 : Math.min(1, errors / 100);
  // Every quantile × X, so p99 ≈ X × the baseline's (plain `-slow`: 2×).
  const slow = part(tag, 'slow');
  if (slow !== null) b.medianMs = BASELINE.medianMs * (slow ?? 2);
  const tail = part(tag, 'tail');
  if (tail !== null) b.tailFactor = tail ?? 2;
  if (/-noisy(?=-|$)/.test(tag)) b.jitter = 3;
  const convdrop = part(tag, 'convdrop');
  if (convdrop !== null) b.conversionDrop = Math.min(1, (convdrop ?? 25) / 100);
  if (/-memleak(?=-|$)/.test(tag)) b.memLeak = true;
  return b;
}

/** Share of requests faster than `xMs` under `b`'s latency: log-normal, its slowest 5% × tailFactor. */
export function latencyCdf(
  xMs: number,
  medianMs: number,
  b: Pick<Behaviour, 'sigma' | 'tailFactor'>,
  lognormalCdf: (x: number, m: number, s: number) => number,
): number {
  const f = lognormalCdf(xMs, medianMs, b.sigma);
  if (b.tailFactor === 1 || f < 0.95) return f;
  // Below the stretched tail nothing is left between the 95th percentile and X times it.
  return Math.max(0.95, lognormalCdf(xMs / b.tailFactor, medianMs, b.sigma));
}
