// PrometheusSource against an HTTP double of the Prometheus API: each failure is its own outcome.
// (The real-Prometheus suite is prometheus.test.ts.)
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile } from '../../src/config.js';
import { captureBaseline } from '../../src/metrics/monitor.js';
import { longestScrapeInterval, PrometheusSource, renderQuery } from '../../src/metrics/prometheus.js';
import { startPromDouble, YOUNG_SINCE, type PromDouble } from './prometheus-double.js';

const queries = loadConfigFile('data/shipbot.yml').services[0]!.metrics!;
const track = (t: string, version?: string) => ({ namespace: 'production', service: 'checkout', track: t, version });

let prom: PromDouble;
let source: PrometheusSource;
beforeAll(async () => {
  prom = await startPromDouble();
  // A 1 s scrape: ranges are the window itself (a 30 s one is tested below).
  source = new PrometheusSource({ baseUrl: prom.url, queries, timeoutMs: 500, scrapeIntervalSec: 1 });
});
afterAll(() => prom.close());

describe('renderQuery', () => {
  it('fills the placeholders and quotes label values', () => {
    expect(
      renderQuery(
        'rate(x{service="{{service}}",ns="{{namespace}}",t="{{track}}",v="{{version}}"}[{{window}}])',
        track('canary', 'v1.2.3'),
        30,
      ),
    ).toBe('rate(x{service="checkout",ns="production",t="canary",v="v1.2.3"}[30s])');
    expect(renderQuery('x{a="{{track}}"}', track('a"b\\c'), 60)).toBe('x{a="a\\"b\\\\c"}');
    // An Argo Rollout's ReplicaSet, as a PodMonitor relabels the pod's template-hash label.
    expect(renderQuery('x{pod_template_hash="{{podHash}}"}', { ...track('', 'v1.3.0'), podHash: '7d9f8c' }, 60)).toBe(
      'x{pod_template_hash="7d9f8c"}',
    );
  });
  it('refuses a placeholder it cannot fill, saying which', () => {
    expect(() => renderQuery('x{v="{{version}}"}', track('canary'), 60)).toThrow(
      /needs \{\{version\}\}, but the canary track has no version/,
    );
    expect(() => renderQuery('x{v="{{pod}}"}', track('canary'), 60)).toThrow(/unknown placeholder \{\{pod\}\}/);
  });
});

describe('ranges as long as the scrape interval needs', () => {
  const ranges = () => prom.queries.slice(-6).map((x) => /\[(\d+)s\]/.exec(x.params.get('query') ?? '')?.[1]);
  it('never shorter than 4 scrape intervals: a 30 s look at a 30 s scrape asks rate() over 120 s', async () => {
    const src = new PrometheusSource({ baseUrl: prom.url, queries, timeoutMs: 500, scrapeIntervalSec: 30 });
    const out = await src.sample(track('stable'), 30);
    expect(new Set(ranges())).toEqual(new Set(['120']));
    // Rates from the longer range; the request count is this window's share, so pooling counts each request once.
    expect(out).toMatchObject({ ok: true, sample: { windowSec: 30, throughputRps: 190, requests: 190 * 30 } });
    await src.sample(track('stable'), 300);
    expect(new Set(ranges())).toEqual(new Set(['300']));
  });
  it('reads the interval from the targets API when it is not configured (the longest active one)', async () => {
    prom.scrapeInterval = '15s';
    try {
      await new PrometheusSource({ baseUrl: prom.url, queries, timeoutMs: 500 }).sample(track('stable'), 30);
      expect(new Set(ranges())).toEqual(new Set(['60']));
    } finally {
      prom.scrapeInterval = undefined;
    }
  });
  it('falls back to 30 s (kube-prometheus) when the targets API is not there', async () => {
    await new PrometheusSource({ baseUrl: prom.url, queries, timeoutMs: 500 }).sample(track('stable'), 30);
    expect(new Set(ranges())).toEqual(new Set(['120']));
  });
  it('parses Prometheus durations', () => {
    expect(
      longestScrapeInterval({ activeTargets: [{ scrapeInterval: '30s' }, { scrapeInterval: '1m30s' }, { scrapeInterval: '500ms' }] }),
    ).toBe(90);
    expect(longestScrapeInterval({ activeTargets: [] })).toBeUndefined();
    expect(longestScrapeInterval(undefined)).toBeUndefined();
  });
  it('sends PROMETHEUS_BEARER_TOKEN as a bearer header', async () => {
    const { prometheusAccess } = await import('../../src/metrics/index.js');
    const seen: Array<string | undefined> = [];
    const server = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(401).end('unauthorized');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const src = new PrometheusSource({
        baseUrl: url,
        queries,
        timeoutMs: 500,
        scrapeIntervalSec: 15,
        ...prometheusAccess({ PROMETHEUS_BEARER_TOKEN: 'tok-123' }),
      });
      expect(await src.sample(track('stable'), 30)).toMatchObject({ ok: false, kind: 'http-error', status: 401 });
      expect(new Set(seen)).toEqual(new Set(['Bearer tok-123']));
    } finally {
      server.close();
    }
  });
});

describe('PrometheusSource outcomes', () => {
  it('answers a sample from the service templates', async () => {
    const out = await source.sample(track('stable'), 30);
    expect(out).toMatchObject({ ok: true, sample: { windowSec: 30, errorRate: 0.002, p99Ms: 120, throughputRps: 190, requests: 5700 } });
    const q = prom.queries.at(-1)!;
    expect(q.path).toBe('/api/v1/query');
    const sent = prom.queries.slice(-7).map((x) => x.params.get('query')!);
    expect(sent.some((s) => s.includes('track="stable"') && s.includes('[30s]') && s.includes('code=~"5.."'))).toBe(true);
  });
  it('an empty vector is no-data', async () => {
    expect(await source.sample(track('empty'), 30)).toMatchObject({
      ok: false,
      kind: 'no-data',
      message: expect.stringMatching(/empty result/),
    });
  });
  it('no traffic (throughput 0, ratios NaN) is no-data', async () => {
    expect(await source.sample(track('idle'), 30)).toMatchObject({
      ok: false,
      kind: 'no-data',
      message: expect.stringMatching(/no requests for checkout idle/),
    });
  });
  it('NaN with traffic is no-data, not a number', async () => {
    expect(await source.sample(track('nan'), 30)).toMatchObject({ ok: false, kind: 'no-data', message: expect.stringMatching(/NaN/) });
  });
  it("status:error is a query-error with Prometheus's reason", async () => {
    expect(await source.sample(track('bad'), 30)).toMatchObject({
      ok: false,
      kind: 'query-error',
      message: expect.stringMatching(/bad_data.*parse error/),
    });
  });
  it('a Prometheus-side timeout is a timeout', async () => {
    expect(await source.sample(track('gaveup'), 30)).toMatchObject({ ok: false, kind: 'timeout' });
  });
  it('an HTTP error is an http-error with its status', async () => {
    expect(await source.sample(track('down'), 30)).toMatchObject({ ok: false, kind: 'http-error', status: 502 });
  });
  it('no answer within the timeout is a timeout', async () => {
    expect(await source.sample(track('slow'), 30)).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: expect.stringMatching(/within 500 ms/),
    });
  });
  it('several series where one is expected is a query-error that says what to do', async () => {
    expect(await source.sample(track('multi'), 30)).toMatchObject({
      ok: false,
      kind: 'query-error',
      message: expect.stringMatching(/sum\(/),
    });
  });
  it('a version that never failed (no 5xx series) has error rate 0', async () => {
    expect(await source.sample(track('noerrors'), 30)).toMatchObject({ ok: true, sample: { errorRate: 0, p99Ms: 110 } });
  });
  it('an unreachable Prometheus is an http-error naming PROMETHEUS_URL', async () => {
    const tmp = createServer();
    await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
    const port = (tmp.address() as AddressInfo).port;
    await new Promise<void>((r) => tmp.close(() => r()));
    const gone = new PrometheusSource({ baseUrl: `http://127.0.0.1:${port}`, queries, timeoutMs: 500 });
    expect(await gone.sample(track('stable'), 30)).toMatchObject({
      ok: false,
      kind: 'http-error',
      status: 0,
      message: expect.stringMatching(/ECONNREFUSED.*PROMETHEUS_URL/),
    });
  });
  it('sampleAt sends the evaluation time', async () => {
    const out = await source.sampleAt(track('stable'), 30, 1_700_000_000_000);
    expect(out).toMatchObject({ ok: true, sample: { at: 1_700_000_000_000 } });
    expect(prom.queries.at(-1)!.params.get('time')).toBe('1700000000.000');
  });
  it('sampleAt refuses a window the series covers only in part (its rate would under-count), and reads one inside its life', async () => {
    // rate() over 30 s ending 20 s after the first scrape averages 10 s of nothing in.
    const partial = await source.sampleAt(track('young'), 30, (YOUNG_SINCE + 20) * 1000);
    expect(partial).toMatchObject({ ok: false, kind: 'no-data', message: expect.stringMatching(/began within this window/) });
    expect(prom.queries.some((q) => q.params.get('time') === `${YOUNG_SINCE - 10}.000`)).toBe(true);
    const whole = await source.sampleAt(track('young'), 30, (YOUNG_SINCE + 31) * 1000);
    expect(whole).toMatchObject({ ok: true, sample: { throughputRps: 50 } });
    // A live sample (no time given) is what monitoring reads: it is not held to the series' age.
    expect((await source.sample(track('young'), 30)).ok).toBe(true);
  });
  it("a baseline of a series that just began is not read from history: it waits for the series' first whole windows", async () => {
    const clock = new ScaledClock(20);
    prom.youngSince = clock.now() / 1000;
    try {
      const b = await captureBaseline({ source, track: track('young'), clock, samples: 3, intervalSec: 5 });
      expect(b.fromHistory).toBe(false);
      expect(b.samples.map((s) => s.throughputRps)).toEqual([50, 50, 50]);
      // Every one ended at least a window after the series began.
      for (const s of b.samples) expect(s.at - 5000).toBeGreaterThanOrEqual(prom.youngSince * 1000);
      expect(b.failures.some((f) => /began within this window/.test(f.message))).toBe(true);
    } finally {
      prom.youngSince = YOUNG_SINCE;
    }
  });
  it('range() returns the finite points of a query_range', async () => {
    const r = await source.range('up', 1, 3, 1);
    expect(r).toEqual({
      ok: true,
      points: [
        [1, 1],
        [3, 3],
      ],
    });
    expect(prom.queries.at(-1)!.params.get('step')).toBe('1');
  });
});

describe('createMetricSource', () => {
  it("uses Prometheus when a URL is given, with each service's own templates", async () => {
    const { createMetricSource, SandboxMetricSource: Sandbox } = await import('../../src/metrics/index.js');
    const cfg = loadConfigFile('data/shipbot.yml');
    const custom = {
      ...cfg.services[0]!,
      name: 'ledger',
      metrics: { ...queries, throughputRps: 'sum(rate(ledger_ops_total{track="{{track}}"}[{{window}}]))' },
    };
    const src = createMetricSource({ prometheusUrl: prom.url, config: { services: [...cfg.services, custom] } });
    expect(src.name).toBe('prometheus');
    await src.sample({ namespace: 'production', service: 'ledger', track: 'stable' }, 30);
    expect(prom.queries.some((q) => q.params.get('query')?.startsWith('sum(rate(ledger_ops_total'))).toBe(true);
    expect(createMetricSource({ sandbox: { url: 'https://127.0.0.1:1', fetch }, config: cfg })).toBeInstanceOf(Sandbox);
    expect(() => createMetricSource({ config: cfg })).toThrow(/set PROMETHEUS_URL, or run with --sandbox/);
  });
});
