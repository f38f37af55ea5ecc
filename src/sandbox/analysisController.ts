// A stand-in for Argo Rollouts' analysis controller (argoproj/argo-rollouts `analysis/analysis.go`,
// `utils/analysis/helpers.go`), as far as a step-based canary analysis goes:
// - each metric is measured `count` times (1 when no interval), every `interval`; a measurement is
//   Successful, Failed or Inconclusive by its `successCondition` / `failureCondition` (both set and
//   neither true: Inconclusive), Error when it cannot be taken;
// - a metric is Failed once failed > failureLimit (0), Inconclusive once inconclusive >
//   inconclusiveLimit (0), Error once errors > consecutiveErrorLimit (4), Successful after `count`;
//   the run takes the worst phase of its metrics, with Argo's message
//   `Metric "<name>" assessed Failed due to failed (1) > failureLimit (0)`.
// Providers: `prometheus` (`address` and `query`: an instant query to that Prometheus, as Argo's
// provider sends it; the first sample's value is the result, an empty answer an Error), and `web`
// (GET, a `{$.field}` JSON path) against the sandbox's own /sandbox/v1/metrics, measured from its
// traffic. A Prometheus measurement is taken in the background and recorded on the next tick.
// Conditions: comparisons of `result` (or `result[0]`) with a number, joined by && or ||;
// anything else is an Error.
import type { Clock } from '../clock.js';
import type { MetricSample } from '../domain/types.js';
import { goDurationSeconds } from '../domain/go-duration.js';
import { clone, deepEqual, isoSeconds, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';
import type { SeriesFilter } from './traffic.js';

const ANALYSISRUNS = resourceByKind('AnalysisRun');
const DONE = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);

interface Metric {
  name: string;
  interval?: string | number;
  count?: number;
  successCondition?: string;
  failureCondition?: string;
  failureLimit?: number;
  inconclusiveLimit?: number;
  consecutiveErrorLimit?: number;
  provider?: { web?: { url?: string; jsonPath?: string }; prometheus?: { address?: string; query?: string } };
}

interface Measurement {
  phase: string;
  value?: string;
  message?: string;
  startedAt: string;
  finishedAt: string;
}

interface MetricResult {
  name: string;
  phase: string;
  measurements: Measurement[];
  count: number;
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
  consecutiveError: number;
  message?: string;
}

/** Evaluates `result <op> N` comparisons joined by && / || (|| binds looser), as Argo's expr would for these forms. */
export function evalCondition(cond: string, result: number): boolean {
  return cond.split('||').some((any) =>
    any.split('&&').every((part) => {
      const m = /^\s*result(?:\[0\])?\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(part);
      if (!m) throw new Error(`the sandbox evaluates only comparisons of result with a number, not "${part.trim()}"`);
      const n = Number(m[2]);
      return { '<': result < n, '<=': result <= n, '>': result > n, '>=': result >= n, '==': result === n, '!=': result !== n }[m[1]!]!;
    }),
  );
}

export class AnalysisController {
  /** Prometheus measurements under way, by run, metric and measurement number. */
  private readonly inflight = new Map<string, { done: boolean; value?: number; error?: string }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    /** The sandbox's direct metrics API, as /sandbox/v1/metrics answers it. */
    private readonly sample: (filter: SeriesFilter, windowSec: number) => MetricSample,
  ) {}

  syncAll(): void {
    const runs = this.store.list(ANALYSISRUNS);
    for (const run of runs) if (!DONE.has(run.status?.phase)) this.sync(run);
    // A query for a run that is gone is forgotten.
    const live = new Set(runs.map((r) => r.metadata.uid));
    for (const key of this.inflight.keys()) if (!live.has(key.split('/')[0])) this.inflight.delete(key);
  }

  private sync(run: KObject): void {
    const now = this.clock.now();
    const metrics: Metric[] = run.spec?.metrics ?? [];
    const prior: MetricResult[] = run.status?.metricResults ?? [];
    const results = metrics.map((m) =>
      this.measure(m, clone(prior.find((r) => r.name === m.name)) ?? fresh(m.name), now, `${run.metadata.uid}/${m.name}`),
    );
    const worst = (phase: string) => results.find((r) => r.phase === phase);
    const failed = worst('Failed') ?? worst('Error') ?? worst('Inconclusive');
    const phase = failed?.phase ?? (results.every((r) => r.phase === 'Successful') ? 'Successful' : 'Running');
    const status = {
      phase,
      ...(failed?.message ? { message: failed.message } : {}),
      startedAt: run.status?.startedAt ?? isoSeconds(now),
      metricResults: results,
    };
    if (!deepEqual(status, run.status)) this.store.update(ANALYSISRUNS, { ...run, status }, undefined, true);
  }

  private measure(m: Metric, r: MetricResult, now: number, key: string): MetricResult {
    if (r.phase !== 'Running' && r.phase !== 'Pending') return r;
    const count = m.count ?? 1;
    const everyMs = (goDurationSeconds(m.interval) ?? 0) * 1000;
    const last = r.measurements.at(-1);
    if (last && now < Date.parse(last.finishedAt) + everyMs) return r;
    const at = isoSeconds(now);
    // A Prometheus query runs in the background: started now, recorded once it answered.
    let queried: { done: boolean; value?: number; error?: string } | undefined;
    if (m.provider?.prometheus) {
      const slot = `${key}/${r.count}`;
      queried = this.inflight.get(slot);
      if (!queried) {
        const started: { done: boolean; value?: number; error?: string } = { done: false };
        this.inflight.set(slot, started);
        promQuery(m.provider.prometheus).then(
          (v) => Object.assign(started, { done: true, value: v }),
          (e: Error) => Object.assign(started, { done: true, error: e.message }),
        );
        return r;
      }
      if (!queried.done) return r;
      this.inflight.delete(slot);
    }
    let mm: Measurement;
    try {
      if (queried?.error !== undefined) throw new Error(queried.error);
      const value = queried ? queried.value! : this.value(m);
      const failure = m.failureCondition ? evalCondition(m.failureCondition, value) : false;
      const success = m.successCondition ? evalCondition(m.successCondition, value) : !failure;
      const phase = failure ? 'Failed' : success ? 'Successful' : m.successCondition && m.failureCondition ? 'Inconclusive' : 'Failed';
      mm = { phase, value: String(value), startedAt: at, finishedAt: at };
    } catch (err) {
      mm = { phase: 'Error', message: (err as Error).message, startedAt: at, finishedAt: at };
    }
    const next: MetricResult = {
      ...r,
      phase: 'Running',
      measurements: [...r.measurements, mm],
      count: r.count + 1,
      successful: r.successful + (mm.phase === 'Successful' ? 1 : 0),
      failed: r.failed + (mm.phase === 'Failed' ? 1 : 0),
      inconclusive: r.inconclusive + (mm.phase === 'Inconclusive' ? 1 : 0),
      error: r.error + (mm.phase === 'Error' ? 1 : 0),
      consecutiveError: mm.phase === 'Error' ? r.consecutiveError + 1 : 0,
    };
    const LIMIT = {
      Failed: ['failed', 'failureLimit'],
      Inconclusive: ['inconclusive', 'inconclusiveLimit'],
      Error: ['consecutiveErrors', 'consecutiveErrorLimit'],
    } as const;
    const over = (what: keyof typeof LIMIT, n: number, limit: number) =>
      `Metric "${m.name}" assessed ${what} due to ${LIMIT[what][0]} (${n}) > ${LIMIT[what][1]} (${limit})`;
    if (next.failed > (m.failureLimit ?? 0)) return { ...next, phase: 'Failed', message: over('Failed', next.failed, m.failureLimit ?? 0) };
    if (next.inconclusive > (m.inconclusiveLimit ?? 0))
      return { ...next, phase: 'Inconclusive', message: over('Inconclusive', next.inconclusive, m.inconclusiveLimit ?? 0) };
    if (next.consecutiveError > (m.consecutiveErrorLimit ?? 4))
      return { ...next, phase: 'Error', message: `${over('Error', next.consecutiveError, m.consecutiveErrorLimit ?? 4)}: ${mm.message}` };
    return next.count >= count ? { ...next, phase: 'Successful' } : next;
  }

  /** One measurement: the web provider against the sandbox's metrics API, with a `{$.field}` JSON path. */
  private value(m: Metric): number {
    const web = m.provider?.web;
    if (!web?.url) throw new Error('no provider the sandbox can measure with (prometheus, or web against /sandbox/v1/metrics)');
    const url = new URL(web.url, 'https://sandbox');
    if (url.pathname !== '/sandbox/v1/metrics')
      throw new Error(`the sandbox's web provider reaches only /sandbox/v1/metrics, not ${url.pathname}`);
    const q = url.searchParams;
    const namespace = q.get('namespace');
    const service = q.get('service');
    if (!namespace || !service) throw new Error('the metrics URL needs namespace and service');
    const filter: SeriesFilter = {
      namespace,
      service,
      ...(q.get('track') !== null ? { track: q.get('track')! } : {}),
      ...(q.get('version') ? { version: q.get('version')! } : {}),
    };
    const sample = this.sample(filter, Number(q.get('windowSec') ?? 60));
    const field = /^\{\$\.(\w+)\}$/.exec(web.jsonPath ?? '')?.[1];
    if (!field) throw new Error(`jsonPath ${web.jsonPath ?? '(none)'}: the sandbox reads {$.<field>} paths`);
    const v = (sample as unknown as Record<string, unknown>)[field];
    if (typeof v !== 'number') throw new Error(`${field} is not a number in the metrics answer`);
    if (sample.requests === 0) throw new Error('no requests in the window');
    return v;
  }
}

function fresh(name: string): MetricResult {
  return { name, phase: 'Running', measurements: [], count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0, consecutiveError: 0 };
}

/** Argo's Prometheus provider: an instant query; the first sample's value, and no data is an error. */
async function promQuery(p: { address?: string; query?: string }): Promise<number> {
  if (!p.address || !p.query) throw new Error('the prometheus provider needs address and query');
  const res = await fetch(`${p.address.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(p.query)}`, {
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as { status?: string; error?: string; data?: { result?: Array<{ value?: [number, string] }> } };
  if (body.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${body.error ?? 'error'}`);
  const v = body.data?.result?.[0]?.value?.[1];
  if (v === undefined) throw new Error('the query returned no data');
  const n = Number(v);
  if (!Number.isFinite(n)) throw new Error(`the query returned ${v}`);
  return n;
}
