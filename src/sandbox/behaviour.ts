// How a version behaves, decided by its image tag (the fault table in DESIGN.md). Pure.
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

export function behaviourOf(image: string): Behaviour {
  const fault = faultOfTag(imageTag(image));
  const b: Behaviour = { fault, ...BASELINE, becomesReady: true };
  switch (fault) {
    case 'errors':
      return { ...b, errorRate: 0.08 };
    case 'slow':
      // Every quantile doubles, so p99 ≈ 2× the baseline's.
      return { ...b, medianMs: BASELINE.medianMs * 2 };
    case 'crash':
    case 'oom':
    case 'missing':
      return { ...b, becomesReady: false };
    default:
      return b;
  }
}
