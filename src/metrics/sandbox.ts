// The sandbox's direct metrics API as a MetricSource, for local mode without Prometheus:
// GET /sandbox/v1/metrics?namespace=&service=&track=&version=&windowSec= → a MetricSample.
import { z } from 'zod';
import type { TrackRef } from '../domain/types.js';
import type { MetricOutcome, MetricSource } from './types.js';

const num = z.union([z.number(), z.null()]).transform((v) => (v === null ? NaN : v));
const SampleJson = z.object({
  at: z.number(),
  windowSec: z.number(),
  requests: z.number().min(0),
  errorRate: num.optional(),
  p50Ms: num.optional(),
  p95Ms: num.optional(),
  p99Ms: num.optional(),
  throughputRps: num.optional(),
  slowerThan: z.array(z.tuple([z.number(), z.number()])).optional(),
});

export interface SandboxMetricOptions {
  /** Real milliseconds per request. Default 3000. */
  timeoutMs?: number;
  /** The fetch that carries the sandbox's CA and token (`Kube.fetch`); it answers 401 to anything else. */
  fetch?: typeof fetch;
}

export class SandboxMetricSource implements MetricSource {
  readonly name = 'sandbox';
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly opts: SandboxMetricOptions = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async sample(track: TrackRef, windowSec: number): Promise<MetricOutcome> {
    const q = new URLSearchParams({
      namespace: track.namespace,
      service: track.service,
      track: track.track,
      windowSec: String(Math.round(windowSec)),
    });
    if (track.version) q.set('version', track.version);
    const url = `${this.base}/sandbox/v1/metrics?${q}`;
    const timeoutMs = this.opts.timeoutMs ?? 3000;
    const where = `${track.service} ${track.track} in ${track.namespace} over ${Math.round(windowSec)}s`;
    let res: Response;
    let text: string;
    try {
      res = await (this.opts.fetch ?? fetch)(url, { signal: AbortSignal.timeout(timeoutMs) });
      text = await res.text();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return { ok: false, kind: 'timeout', message: `sandbox metrics did not answer within ${timeoutMs} ms (${where})` };
      return {
        ok: false,
        kind: 'http-error',
        status: 0,
        message: `cannot reach the sandbox at ${this.base}: ${(e as { cause?: { code?: string } }).cause?.code ?? e.message}`,
      };
    }
    if (!res.ok)
      return {
        ok: false,
        kind: 'http-error',
        status: res.status,
        message: `sandbox metrics answered HTTP ${res.status} for ${where}: ${text.slice(0, 200)}`,
      };
    let parsed: z.infer<typeof SampleJson>;
    try {
      parsed = SampleJson.parse(JSON.parse(text));
    } catch (err) {
      return {
        ok: false,
        kind: 'query-error',
        message: `sandbox metrics answered something that is not a metric sample (${where}): ${(err as Error).message.slice(0, 200)}`,
      };
    }
    if (!(parsed.requests > 0)) return { ok: false, kind: 'no-data', message: `no requests for ${where}` };
    const sample = {
      at: parsed.at,
      windowSec: parsed.windowSec,
      requests: parsed.requests,
      errorRate: parsed.errorRate ?? NaN,
      p50Ms: parsed.p50Ms ?? NaN,
      p95Ms: parsed.p95Ms ?? NaN,
      p99Ms: parsed.p99Ms ?? NaN,
      throughputRps: parsed.throughputRps ?? parsed.requests / Math.max(1, parsed.windowSec),
      ...(parsed.slowerThan ? { slowerThan: parsed.slowerThan } : {}),
    };
    if (!Number.isFinite(sample.errorRate) || !Number.isFinite(sample.p99Ms)) {
      return { ok: false, kind: 'no-data', message: `sandbox metrics for ${where} have no error rate or p99 (NaN)` };
    }
    return { ok: true, sample };
  }
}
