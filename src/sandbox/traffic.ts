// Simulated request traffic. Every tick, each Service sends its rate of requests to the Ready
// pods its selector matches (equal shares, so 1 canary pod of 20 gets ~5%), or, when a route
// sends its users elsewhere, to the route's backends by weight (routes.ts). Requests are
// simulated in aggregate, never one by one: per pod cumulative counters (what Prometheus
// scrapes) and per (namespace, service, track, version) time buckets (the direct metrics API).
import type { Clock } from '../clock.js';
import type { MetricSample } from '../domain/types.js';
import { behaviourOf, latencyCdf, type Behaviour } from './behaviour.js';
import { podBuild } from './registry.js';
import { imageTag, type KObject } from './objects.js';
import { isPodReady, readySince } from './replicaSetController.js';
import { resourceByKind } from './resources.js';
import { userSplit } from './routes.js';
import { matchesMap } from './selectors.js';
import { binomial, countBelow, FINE_EDGES_MS, lognormalCdf, normal, poisson, PROM_BUCKETS_S, quantileFromFine } from './stats.js';
import type { ObjectStore } from './store.js';

const PODS = resourceByKind('Pod');
const SERVICES = resourceByKind('Service');

/** Annotation on a Service overriding its simulated request rate (requests per second). */
export const RPS_ANNOTATION = 'sandbox.shipbot.dev/rps';
/** Label Shipbot puts on the Services it creates for smoke checks (src/cluster/common.ts). */
export const PREVIEW_ROLE_LABEL = 'shipbot/role';

export interface PodCounters {
  namespace: string;
  pod: string;
  service: string;
  track: string;
  version: string;
  ok: number;
  errors: number;
  /** Cumulative counts per PROM_BUCKETS_S bound (le), then +Inf = ok + errors. */
  buckets: number[];
  sumSeconds: number;
}

interface Bucket {
  requests: number;
  errors: number;
  fine: Float32Array;
}

interface Series {
  namespace: string;
  service: string;
  track: string;
  version: string;
  buckets: Map<number, Bucket>;
}

export interface SeriesFilter {
  namespace: string;
  service: string;
  track?: string;
  version?: string;
}

export interface TrafficOptions {
  /** Requests per second per Service when it has no rps annotation. */
  rps: number;
  /** Width of a metrics time bucket, virtual ms. */
  bucketMs: number;
  /** How much history the direct metrics API keeps, virtual ms. */
  retentionMs: number;
}

/** What a pod's labels say about it, for metric labels. */
export function podIdentity(p: KObject): { service: string; track: string; version: string; image: string } {
  const labels = p.metadata.labels ?? {};
  const image: string = p.spec?.containers?.[0]?.image ?? '';
  return {
    service: labels.app ?? labels['app.kubernetes.io/name'] ?? p.metadata.name!,
    // No label, no value: as a Prometheus relabelling pod labels would leave it.
    track: labels.track ?? '',
    // The running image is the truth: a label can lag behind `kubectl set image`.
    version: image ? imageTag(image) : (labels.version ?? 'unknown'),
    image,
  };
}

export class TrafficSimulator {
  private last: number;
  /** The earliest moment simulated so far. */
  private origin: number;
  private readonly pods = new Map<string, PodCounters>();
  private readonly series = new Map<string, Series>();
  private readonly opts: TrafficOptions;
  /** Distribution of latencies per behaviour, cached: computing CDFs is the costly part. */
  private readonly shapes = new Map<string, { fine: Float64Array; prom: number[]; meanS: number }>();

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    opts: Partial<TrafficOptions> = {},
  ) {
    this.opts = { rps: 200, bucketMs: 5_000, retentionMs: 3_600_000, ...opts };
    this.last = clock.now();
    this.origin = this.last;
  }

  counters(podUid: string): PodCounters | undefined {
    return this.pods.get(podUid);
  }

  /**
   * Fills the `seconds` before the simulation's start with traffic from the pods Ready now
   * (a warm start with history). Only time never simulated is filled, so nothing counts twice.
   */
  backfill(seconds: number): void {
    const to = this.origin;
    this.origin = to - seconds * 1000;
    this.simulate(this.origin, to);
  }

  /** Advances the simulation to the clock's now. */
  tick(): void {
    const now = this.clock.now();
    if (now <= this.last) return;
    const from = this.last;
    this.last = now;
    this.simulate(from, now);
  }

  private simulate(from: number, now: number): void {
    const dt = now - from;
    if (dt <= 0) return;
    const live = new Set<string>();
    const podsByNs = new Map<string, KObject[]>();
    for (const p of this.store.list(PODS)) {
      live.add(p.metadata.uid!);
      if (!isPodReady(p)) continue;
      const list = podsByNs.get(p.metadata.namespace!) ?? [];
      list.push(p);
      podsByNs.set(p.metadata.namespace!, list);
    }
    const perSeries = new Map<string, { n: number; errors: number; fine: Float64Array; p: KObject; id: ReturnType<typeof podIdentity> }>();
    for (const svc of this.store.list(SERVICES)) {
      // Users reach a service through its main Service; Shipbot's preview Services (canary,
      // idle colour) carry only smoke checks, so they get no simulated users of their own.
      const preview = svc.metadata.labels?.[PREVIEW_ROLE_LABEL] === 'preview';
      const rps = Number(svc.metadata.annotations?.[RPS_ANNOTATION] ?? (preview ? 0 : this.opts.rps));
      if (!(rps > 0)) continue;
      const ns = svc.metadata.namespace!;
      // Noise is shared by the pods of one version this tick, as load and GC pauses would be.
      const jitter = new Map<string, { medianMs: number; errorRate: number }>();
      // Through a route, the users are split by its backends' weights; each backend Service then
      // spreads its part evenly over its Ready pods (so 1 canary pod of 20 gets ~5% without one).
      for (const { service, fraction } of userSplit(this.store, ns, svc.metadata.name!)) {
        const target = service === svc.metadata.name ? svc : this.store.peek(SERVICES, ns, service);
        const backends = target ? (podsByNs.get(ns) ?? []).filter((p) => matchesMap(target.spec?.selector, p.metadata.labels)) : [];
        if (backends.length === 0) continue;
        const perPod = (rps * fraction * dt) / 1000 / backends.length;
        for (const p of backends) {
          const id = podIdentity(p);
          // A `-lateN` fault begins N minutes after this pod became Ready.
          const b = behaviourOf(podBuild(this.store.registry, p, id.image), now - readySince(p));
          const key = `${id.version}|${b.fault}|${b.errorRate}|${b.medianMs}|${b.tailFactor}`;
          let j = jitter.get(key);
          if (!j) {
            // Log-normal noise with its mean kept at the behaviour's: `-noisy` is healthy on average.
            const [sm, se] = [0.04 * b.jitter, 0.1 * b.jitter];
            j = {
              medianMs: b.medianMs * Math.exp(sm * normal() - (sm * sm) / 2),
              errorRate: b.errorRate * Math.exp(se * normal() - (se * se) / 2),
            };
            jitter.set(key, j);
          }
          this.serve(p, id, b, j, poisson(perPod), perSeries);
        }
      }
    }
    for (const [key, t] of perSeries) this.record(key, t, from, now);
    for (const uid of this.pods.keys()) if (!live.has(uid)) this.pods.delete(uid);
    this.prune(now);
  }

  private shape(b: Behaviour, medianMs: number) {
    // Quantise the jittered median to 0.5% steps so the cache stays small.
    const m = Math.round(Math.log(medianMs) * 200) / 200;
    const key = `${m}|${b.sigma}|${b.tailFactor}`;
    let s = this.shapes.get(key);
    if (!s) {
      const med = Math.exp(m);
      const cdf = (x: number) => latencyCdf(x, med, b, lognormalCdf);
      const fine = new Float64Array(FINE_EDGES_MS.length);
      let prev = 0;
      for (let i = 0; i < fine.length; i++) {
        const c = i === fine.length - 1 ? 1 : cdf(FINE_EDGES_MS[i]!);
        fine[i] = c - prev;
        prev = c;
      }
      // The tail's extra time: its 5% of requests, at about their median (the 97.5th percentile), × (X − 1).
      const tailExtraMs = 0.05 * (b.tailFactor - 1) * med * Math.exp(1.96 * b.sigma);
      s = {
        fine,
        prom: PROM_BUCKETS_S.map((le) => cdf(le * 1000)),
        meanS: (med * Math.exp((b.sigma * b.sigma) / 2) + tailExtraMs) / 1000,
      };
      if (this.shapes.size > 5_000) this.shapes.clear();
      this.shapes.set(key, s);
    }
    return s;
  }

  /** One pod's share of this tick: its cumulative counters, and the tick total of its series. */
  private serve(
    p: KObject,
    id: ReturnType<typeof podIdentity>,
    b: Behaviour,
    j: { medianMs: number; errorRate: number },
    n: number,
    perSeries: Map<string, { n: number; errors: number; fine: Float64Array; p: KObject; id: ReturnType<typeof podIdentity> }>,
  ): void {
    if (n <= 0) return;
    const errors = binomial(n, Math.min(1, j.errorRate));
    const shape = this.shape(b, j.medianMs);
    let c = this.pods.get(p.metadata.uid!);
    if (!c) {
      c = {
        namespace: p.metadata.namespace!,
        pod: p.metadata.name!,
        service: id.service,
        track: id.track,
        version: id.version,
        ok: 0,
        errors: 0,
        buckets: PROM_BUCKETS_S.map(() => 0),
        sumSeconds: 0,
      };
      this.pods.set(p.metadata.uid!, c);
    }
    c.version = id.version;
    c.track = id.track;
    c.ok += n - errors;
    c.errors += errors;
    // Each request lands in one histogram bucket (a multinomial draw, bucket by bucket): rounding
    // n × CDF per tick would put a small canary's few requests per tick all at its median.
    let below = 0;
    let left = n;
    for (let i = 0; i < shape.prom.length; i++) {
      const before = i === 0 ? 0 : shape.prom[i - 1]!;
      const k = left > 0 && before < 1 ? binomial(left, Math.min(1, Math.max(0, (shape.prom[i]! - before) / (1 - before)))) : 0;
      left -= k;
      below += k;
      c.buckets[i]! += below;
    }
    c.sumSeconds += n * shape.meanS;

    const key = `${id.service}|${p.metadata.namespace}|${id.track}|${id.version}`;
    let t = perSeries.get(key);
    if (!t) perSeries.set(key, (t = { n: 0, errors: 0, fine: new Float64Array(FINE_EDGES_MS.length), p, id }));
    t.n += n;
    t.errors += errors;
    for (let i = 0; i < shape.fine.length; i++) t.fine[i]! += n * shape.fine[i]!;
  }

  /** Adds a series' tick total to the time buckets the tick spans. */
  private record(
    key: string,
    t: { n: number; errors: number; fine: Float64Array; p: KObject; id: ReturnType<typeof podIdentity> },
    from: number,
    to: number,
  ): void {
    let s = this.series.get(key);
    if (!s) {
      s = { namespace: t.p.metadata.namespace!, service: t.id.service, track: t.id.track, version: t.id.version, buckets: new Map() };
      this.series.set(key, s);
    }
    const B = this.opts.bucketMs;
    for (let at = from; at < to; ) {
      const idx = Math.floor(at / B);
      const end = Math.min(to, (idx + 1) * B);
      const f = (end - at) / (to - from);
      let bucket = s.buckets.get(idx);
      if (!bucket) s.buckets.set(idx, (bucket = { requests: 0, errors: 0, fine: new Float32Array(FINE_EDGES_MS.length) }));
      bucket.requests += t.n * f;
      bucket.errors += t.errors * f;
      for (let i = 0; i < t.fine.length; i++) bucket.fine[i]! += t.fine[i]! * f;
      at = end;
    }
  }

  private prune(now: number): void {
    const oldest = Math.floor((now - this.opts.retentionMs) / this.opts.bucketMs);
    for (const [key, s] of this.series) {
      for (const idx of s.buckets.keys()) if (idx < oldest) s.buckets.delete(idx);
      if (s.buckets.size === 0) this.series.delete(key);
    }
  }

  /** Pod counters, for the Prometheus endpoint of one pod. */
  podCounters(uid: string): PodCounters | undefined {
    return this.pods.get(uid);
  }

  /**
   * Aggregate of the matching series over the `windowSec` (virtual) seconds before `end`
   * (default: the last simulated moment, so a loaded machine never shows a half-empty window).
   */
  sample(filter: SeriesFilter, windowSec: number, end?: number): MetricSample {
    const now = Math.min(end ?? this.last, this.last);
    const B = this.opts.bucketMs;
    const start = now - windowSec * 1000;
    const first = Math.floor(start / B);
    const lastIdx = Math.floor(now / B);
    let requests = 0;
    let errors = 0;
    const fine = new Float64Array(FINE_EDGES_MS.length);
    for (const s of this.series.values()) {
      if (s.namespace !== filter.namespace || s.service !== filter.service) continue;
      // '' asks for the pods without a track label (PromQL track=""); undefined for all of them.
      if (filter.track !== undefined && s.track !== filter.track) continue;
      if (filter.version && s.version !== filter.version) continue;
      for (let idx = first; idx <= lastIdx; idx++) {
        const b = s.buckets.get(idx);
        if (!b) continue;
        // The oldest bucket straddles the window's start: count only its overlapping part.
        const w = idx === first ? Math.max(0, ((idx + 1) * B - start) / B) : 1;
        requests += b.requests * w;
        errors += b.errors * w;
        for (let i = 0; i < fine.length; i++) fine[i]! += b.fine[i]! * w;
      }
    }
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      at: now,
      windowSec,
      requests: Math.round(requests),
      errorRate: requests > 0 ? errors / requests : 0,
      p50Ms: r2(quantileFromFine(fine, 0.5)),
      p95Ms: r2(quantileFromFine(fine, 0.95)),
      p99Ms: r2(quantileFromFine(fine, 0.99)),
      throughputRps: r2(requests / Math.max(windowSec, 1e-9)),
      // At the `le` bounds the Prometheus histogram has: what a scrape-based source could know too.
      slowerThan: PROM_BUCKETS_S.map((s) => [s * 1000, Math.round(requests - countBelow(fine, s * 1000))] as [number, number]),
    };
  }

  /** Series keys currently known (for the overview). */
  seriesList(): Array<Omit<Series, 'buckets'>> {
    return [...this.series.values()].map(({ namespace, service, track, version }) => ({ namespace, service, track, version }));
  }
}
