// The judge's boundary: what a metric source hands over is checked once, here, before any
// rule sees it. A sample with impossible counts (non-finite, negative, at or above 2^53, an
// error rate outside 0..1) is unusable as a whole, with the reason named; an impossible
// latency or throughput value is dropped from that sample alone. Pure.
import type { MetricSample } from './types.js';
import { MAX_COUNT } from './stats.js';

export interface CheckedSamples {
  samples: MetricSample[];
  /** One line per unusable sample: which value was impossible. */
  rejected: string[];
}

const LATENCIES = ['p50Ms', 'p95Ms', 'p99Ms'] as const;

function bad(v: number): string {
  return Number.isNaN(v) ? 'NaN' : String(v);
}

/** Why a sample is unusable, or undefined when its counts can be believed. */
export function sampleProblem(s: MetricSample): string | undefined {
  if (!Number.isFinite(s.requests) || s.requests < 0 || s.requests >= MAX_COUNT) return `requests = ${bad(s.requests)}`;
  // A sample without requests says nothing (and has no error rate); it is left out elsewhere.
  if (s.requests > 0 && !(s.errorRate >= 0 && s.errorRate <= 1)) return `error rate = ${bad(s.errorRate)} (must be 0..1)`;
  return undefined;
}

export function checkSamples(samples: readonly MetricSample[], label: string): CheckedSamples {
  const out: CheckedSamples = { samples: [], rejected: [] };
  for (const s of samples) {
    const problem = sampleProblem(s);
    if (problem) {
      out.rejected.push(`a ${label} sample has ${problem}`);
      continue;
    }
    const clean: MetricSample = { ...s };
    for (const k of LATENCIES) if (!(clean[k] >= 0) || !Number.isFinite(clean[k])) clean[k] = NaN;
    if (!(clean.throughputRps >= 0) || !Number.isFinite(clean.throughputRps)) clean.throughputRps = NaN;
    if (clean.slowerThan && !histogramOk(clean.slowerThan, clean.requests)) delete clean.slowerThan;
    out.samples.push(clean);
  }
  return out;
}

/**
 * A histogram the judge can count with: bounds ascending and positive, counts whole, not
 * negative, not above the sample's requests, and falling (fewer requests are slower than a
 * higher bound). Otherwise it is dropped and latency is judged per sample.
 */
function histogramOk(h: ReadonlyArray<readonly [number, number]>, requests: number): boolean {
  return h.every(
    ([ms, n], i) =>
      Number.isFinite(ms) &&
      ms > 0 &&
      Number.isInteger(n) &&
      n >= 0 &&
      n <= requests &&
      (i === 0 || (ms > h[i - 1]![0] && n <= h[i - 1]![1])),
  );
}
