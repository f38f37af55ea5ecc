// Prometheus as a MetricSource, through its HTTP API (/api/v1/query, /api/v1/query_range).
// The service's PromQL templates are rendered per track; every way a query can fail is a
// distinct outcome (timeout, HTTP error, `status: error`, empty vector, NaN), never a pass.
import type { MetricQueries } from '../config.js';
import type { Clock } from '../clock.js';
import { realClock } from '../clock.js';
import type { MetricSample } from '../domain/types.js';
import type { TrackRef } from '../domain/types.js';
import type { MetricFailure, MetricOutcome, MetricSource, QueryOutcome } from './types.js';

export interface PrometheusOptions {
  /** Base URL, e.g. `http://prometheus:9090` (a path prefix is kept). */
  baseUrl: string;
  queries: MetricQueries;
  /** Per query, real milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Stamps `at` on samples (the run's clock). Prometheus itself always evaluates at its own now. */
  clock?: Clock;
  /** Extra request headers (e.g. authorization for a hosted Prometheus). Never logged. */
  headers?: Record<string, string>;
  /** The fetch to use (one that trusts a private CA: PROMETHEUS_CA_FILE). Default: global fetch. */
  fetch?: typeof fetch;
  /**
   * Prometheus' scrape interval, seconds. `{{window}}` is never shorter than 4 of them: rate()
   * needs two points in its range, and over one interval it is empty. Unset: read once from
   * the targets API (the longest active interval), else 30 (kube-prometheus' default).
   */
  scrapeIntervalSec?: number;
}

/** Ranges shorter than this many scrape intervals are stretched to it. */
export const MIN_SCRAPES_PER_RANGE = 4;
const DEFAULT_SCRAPE_INTERVAL_SEC = 30;

/** The longest scrape interval among active targets (`30s`, `1m`, `1m30s`), or undefined. */
export function longestScrapeInterval(targets: unknown): number | undefined {
  const list = (targets as { activeTargets?: Array<{ scrapeInterval?: string }> } | undefined)?.activeTargets ?? [];
  let max: number | undefined;
  for (const t of list) {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+(?:\.\d+)?)s)?(?:(\d+)ms)?$/.exec(t.scrapeInterval ?? '');
    if (!m || !t.scrapeInterval) continue;
    const sec = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0) + Number(m[4] ?? 0) / 1000;
    if (sec > 0) max = Math.max(max ?? 0, sec);
  }
  return max;
}

export type ScalarOutcome = { ok: true; value: number } | MetricFailure;
export type RangeOutcome = { ok: true; points: Array<[timeSec: number, value: number]> } | MetricFailure;

/** Escapes a value for a PromQL double-quoted string. */
function promString(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

/**
 * Fills {{service}}, {{namespace}}, {{version}}, {{track}}, {{podHash}} (a Rollout's ReplicaSet) and
 * {{window}} (`60s`). Throws when the
 * template names a placeholder this track cannot fill, so a typo surfaces as a query error.
 */
export function renderQuery(template: string, track: TrackRef, windowSec: number): string {
  const values: Record<string, string | undefined> = {
    service: track.service,
    namespace: track.namespace,
    track: track.track,
    version: track.version,
    podHash: track.podHash,
    window: `${Math.max(1, Math.round(windowSec))}s`,
  };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    if (!(name in values))
      throw new Error(`unknown placeholder {{${name}}} in metric query: use service, namespace, version, track, podHash or window`);
    const v = values[name];
    if (v === undefined) throw new Error(`metric query needs {{${name}}}, but the ${track.track} track has no ${name}`);
    return name === 'window' ? v : promString(v);
  });
}

const PROM_ANSWER_LIMIT = 2_000_000;

export class PrometheusSource implements MetricSource {
  readonly name = 'prometheus';
  private readonly base: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  private scrapeInterval: Promise<number> | undefined;

  constructor(private readonly opts: PrometheusOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.clock = opts.clock ?? realClock;
  }

  /** The scrape interval: configured, else read once from the targets API, else 30 s. */
  scrapeIntervalSec(): Promise<number> {
    if (this.opts.scrapeIntervalSec) return Promise.resolve(this.opts.scrapeIntervalSec);
    this.scrapeInterval ??= this.get('/api/v1/targets?state=active').then(
      (a) => (a.ok ? longestScrapeInterval(a.data) : undefined) ?? DEFAULT_SCRAPE_INTERVAL_SEC,
    );
    return this.scrapeInterval;
  }

  sample(track: TrackRef, windowSec: number): Promise<MetricOutcome> {
    return this.sampleAt(track, windowSec);
  }

  /** increase() over the exact elapsed range (stretched to 4 scrapes only while it is shorter). */
  sampleWhole(track: TrackRef, elapsedSec: number): Promise<MetricOutcome> {
    return this.sampleAt(track, elapsedSec);
  }

  /** A window that ended at `endAt` (ms since the epoch, Prometheus's time); now when omitted. */
  async sampleAt(track: TrackRef, windowSec: number, endAt?: number): Promise<MetricOutcome> {
    const q = this.opts.queries;
    // Rates over at least 4 scrapes; a 30 s look at a 30 s scrape would always be empty.
    const rangeSec = Math.max(windowSec, MIN_SCRAPES_PER_RANGE * (await this.scrapeIntervalSec()));
    const render = (t: string | undefined) => (t === undefined ? undefined : renderQuery(t, track, rangeSec));
    let exprs: Record<'errorRate' | 'p99Ms' | 'throughputRps', string> & Partial<Record<'p50Ms' | 'p95Ms' | 'requests', string>>;
    let bucketsExpr: string | undefined;
    try {
      bucketsExpr = render(q.latencyBuckets);
      exprs = {
        errorRate: render(q.errorRate)!,
        p99Ms: render(q.p99Ms)!,
        throughputRps: render(q.throughputRps)!,
        p50Ms: render(q.p50Ms),
        p95Ms: render(q.p95Ms),
        requests: render(q.requests),
      };
    } catch (err) {
      return { ok: false, kind: 'query-error', message: (err as Error).message };
    }
    const keys = Object.keys(exprs).filter((k) => exprs[k as keyof typeof exprs] !== undefined) as Array<keyof typeof exprs>;
    // The histogram is asked beside the numbers, not after them.
    const buckets = bucketsExpr ? this.slowShares(bucketsExpr, endAt) : Promise.resolve(undefined);
    // A window read at a given time must lie inside the series' life: rate() over a range the
    // series covers only in part reports part of its traffic (a pod scraped for a minute read 12,
    // 111, 170 rps for 200). Throughput answering at the window's start means two scrapes before it.
    const began = endAt === undefined ? undefined : this.scalar(exprs.throughputRps, endAt / 1000 - rangeSec);
    const answers = await Promise.all(keys.map((k) => this.scalar(exprs[k]!, endAt === undefined ? undefined : endAt / 1000)));
    const got = new Map(keys.map((k, i) => [k, answers[i]!]));
    const where = `${track.service} ${track.track} in ${track.namespace} over ${Math.round(windowSec)}s`;

    // Throughput first: no traffic at all is "no data", whatever the ratio queries say.
    const tp = got.get('throughputRps')!;
    if (!tp.ok) return withContext(tp, 'throughput', where);
    const before = await began;
    if (before && !before.ok) {
      return before.kind === 'no-data'
        ? { ok: false, kind: 'no-data', message: `${where}: the series began within this window, so its rate covers only part of it` }
        : withContext(before, 'throughput at the window start', where);
    }
    const requests = got.get('requests');
    // increase() over the stretched range counts requests older than this window: count only
    // this window's share, so pooled samples do not count the same requests several times.
    const reqCount = requests?.ok ? (requests.value * windowSec) / rangeSec : tp.value * windowSec;
    if (!(reqCount > 0)) return { ok: false, kind: 'no-data', message: `no requests for ${where}` };
    // A version that never failed has no 5xx series yet: with traffic, an empty error ratio is 0.
    const er = got.get('errorRate')!;
    if (!er.ok && er.kind === 'no-data') got.set('errorRate', { ok: true, value: 0 });
    for (const k of ['errorRate', 'p99Ms'] as const) {
      const a = got.get(k)!;
      if (!a.ok) return withContext(a, k, where);
    }
    const opt = (k: 'p50Ms' | 'p95Ms') => {
      const a = got.get(k);
      return a?.ok ? a.value : NaN;
    };
    // Scaled to this window's requests, as reqCount is (the range may be stretched beyond it).
    const slowerThan = (await buckets)?.map(([ms, share]) => [ms, Math.max(0, Math.floor(reqCount * share))] as [number, number]);
    const sample: MetricSample = {
      ...(slowerThan ? { slowerThan } : {}),
      at: endAt ?? this.clock.now(),
      windowSec,
      ...(rangeSec > windowSec ? { rangeSec } : {}),
      requests: reqCount,
      errorRate: (got.get('errorRate') as { value: number }).value,
      p50Ms: opt('p50Ms'),
      p95Ms: opt('p95Ms'),
      p99Ms: (got.get('p99Ms') as { value: number }).value,
      throughputRps: tp.value,
    };
    return { ok: true, sample };
  }

  /** A team gate's template for `track`, its range never shorter than 4 scrapes, at `atMs` (now when omitted). */
  async readQuery(template: string, track: TrackRef, windowSec: number, atMs?: number): Promise<QueryOutcome> {
    const rangeSec = Math.max(windowSec, MIN_SCRAPES_PER_RANGE * (await this.scrapeIntervalSec()));
    let query: string;
    try {
      query = renderQuery(template, track, rangeSec);
    } catch (err) {
      return { ok: false, kind: 'query-error', message: (err as Error).message, query: template };
    }
    return { ...(await this.scalar(query, atMs === undefined ? undefined : atMs / 1000)), query };
  }

  /**
   * The share of requests slower than each histogram bound (ms), from a `sum by (le)` query.
   * Undefined when the query gives nothing usable: latency is then judged per sample, never skipped.
   */
  async slowShares(expr: string, endAt?: number): Promise<Array<[number, number]> | undefined> {
    const answer = await this.call(
      '/api/v1/query',
      endAt === undefined ? { query: expr } : { query: expr, time: (endAt / 1000).toFixed(3) },
    );
    if (!answer.ok) return undefined;
    const data = answer.data as { resultType?: string; result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
    if (data.resultType !== 'vector') return undefined;
    const le = (v: string | undefined) => (v === '+Inf' ? Infinity : Number(v));
    const cum = (data.result ?? [])
      .map((r) => [le(r.metric.le), Number(r.value[1])] as [number, number])
      .filter(([bound, n]) => !Number.isNaN(bound) && Number.isFinite(n));
    const total = cum.find(([bound]) => bound === Infinity)?.[1];
    if (!total || !(total > 0)) return undefined;
    return cum
      .filter(([bound]) => Number.isFinite(bound))
      .sort((a, b) => a[0] - b[0])
      .map(([bound, below]) => [bound * 1000, 1 - Math.min(1, below / total)]);
  }

  /** One instant query that must answer a single number. */
  async scalar(expr: string, timeSec?: number): Promise<ScalarOutcome> {
    const answer = await this.call('/api/v1/query', timeSec === undefined ? { query: expr } : { query: expr, time: timeSec.toFixed(3) });
    if (!answer.ok) return answer;
    const data = answer.data as { resultType?: string; result?: unknown };
    let raw: unknown;
    if (data.resultType === 'scalar') raw = (data.result as [number, string])[1];
    else if (data.resultType === 'vector') {
      const result = (data.result ?? []) as Array<{ metric: Record<string, string>; value: [number, string] }>;
      if (result.length === 0) return { ok: false, kind: 'no-data', message: `empty result for ${short(expr)}: no matching series yet` };
      if (result.length > 1) {
        return {
          ok: false,
          kind: 'query-error',
          message: `${result.length} series for ${short(expr)}; the query must aggregate to one (wrap it in sum(...))`,
        };
      }
      raw = result[0]!.value[1];
    } else return { ok: false, kind: 'query-error', message: `unexpected result type ${String(data.resultType)} for ${short(expr)}` };
    const value = Number(raw);
    if (!Number.isFinite(value))
      return { ok: false, kind: 'no-data', message: `${String(raw)} for ${short(expr)}: no requests in the window` };
    return { ok: true, value };
  }

  /** A range query (`/api/v1/query_range`), one series expected; times in seconds since the epoch. */
  async range(expr: string, startSec: number, endSec: number, stepSec: number): Promise<RangeOutcome> {
    const answer = await this.call('/api/v1/query_range', {
      query: expr,
      start: String(startSec),
      end: String(endSec),
      step: String(stepSec),
    });
    if (!answer.ok) return answer;
    const data = answer.data as { resultType?: string; result?: Array<{ values: Array<[number, string]> }> };
    const result = data.result ?? [];
    if (result.length === 0) return { ok: false, kind: 'no-data', message: `empty result for ${short(expr)}` };
    if (result.length > 1)
      return { ok: false, kind: 'query-error', message: `${result.length} series for ${short(expr)}; aggregate to one` };
    const points = result[0]!.values.map(([t, v]) => [t, Number(v)] as [number, number]).filter(([, v]) => Number.isFinite(v));
    if (points.length === 0) return { ok: false, kind: 'no-data', message: `only NaN values for ${short(expr)}` };
    return { ok: true, points };
  }

  private call(path: string, params: Record<string, string>): Promise<{ ok: true; data: unknown } | MetricFailure> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.opts.headers },
      body: new URLSearchParams(params).toString(),
    });
  }

  private get(pathAndQuery: string): Promise<{ ok: true; data: unknown } | MetricFailure> {
    return this.request(pathAndQuery, { method: 'GET', headers: { ...this.opts.headers } });
  }

  private async request(path: string, init: RequestInit): Promise<{ ok: true; data: unknown } | MetricFailure> {
    let res: Response;
    try {
      res = await (this.opts.fetch ?? fetch)(`${this.base}${path}`, { ...init, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError') {
        return { ok: false, kind: 'timeout', message: `Prometheus at ${this.base} did not answer within ${this.timeoutMs} ms` };
      }
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return {
        ok: false,
        kind: 'http-error',
        status: 0,
        message: `cannot reach Prometheus at ${this.base} (${cause?.code ?? cause?.message ?? e.message}); check PROMETHEUS_URL`,
      };
    }
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      const e = err as Error;
      if (e.name === 'TimeoutError' || e.name === 'AbortError')
        return { ok: false, kind: 'timeout', message: `Prometheus at ${this.base} stopped answering after ${this.timeoutMs} ms` };
      return { ok: false, kind: 'http-error', status: res.status, message: `reading the answer of Prometheus failed: ${e.message}` };
    }
    let body: { status?: string; data?: unknown; errorType?: string; error?: string } | undefined;
    try {
      body = JSON.parse(text.slice(0, PROM_ANSWER_LIMIT));
    } catch {
      body = undefined;
    }
    // Prometheus answers bad queries with 400/422 and {status:"error"}; a timeout with 503.
    if (body?.status === 'error') {
      if (body.errorType === 'timeout' || body.errorType === 'canceled')
        return { ok: false, kind: 'timeout', message: `Prometheus gave up: ${body.error ?? body.errorType}` };
      return {
        ok: false,
        kind: 'query-error',
        message: `Prometheus rejected the query (${body.errorType ?? res.status}): ${body.error ?? 'no reason given'}`,
      };
    }
    if (!res.ok)
      return {
        ok: false,
        kind: 'http-error',
        status: res.status,
        message: `Prometheus answered HTTP ${res.status} at ${path}: ${text.slice(0, 200)}`,
      };
    if (body?.status !== 'success')
      return {
        ok: false,
        kind: 'query-error',
        message: `Prometheus answered something that is not its API format at ${path}: ${text.slice(0, 200)}`,
      };
    return { ok: true, data: body.data };
  }
}

function short(expr: string): string {
  return expr.length > 80 ? `${expr.slice(0, 77)}...` : expr;
}

function withContext(f: MetricFailure, what: string, where: string): MetricFailure {
  return { ...f, message: `${what} for ${where}: ${f.message}` };
}
