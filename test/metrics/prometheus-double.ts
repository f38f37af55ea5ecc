// An HTTP double of the Prometheus query API (/api/v1/query, /api/v1/query_range) for tests
// that need an exact answer, e.g. a timeout or a `status: error`. Answers by the {{track}} the
// query names, so one server covers every outcome.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PromDouble {
  url: string;
  /** Every query received, in order. */
  queries: Array<{ path: string; params: URLSearchParams }>;
  /** Values per track for the `ok`-style answers, settable by a test. */
  values: Map<string, { errorRate: number; p99Ms: number; throughputRps: number }>;
  /** The scrape interval /api/v1/targets reports (e.g. `15s`); unset, that endpoint answers 404. */
  scrapeInterval?: string;
  /** When the `young` track's series began, seconds since the epoch (default YOUNG_SINCE). */
  youngSince: number;
  close(): Promise<void>;
}

/** When the `young` track's series began (seconds since the epoch). */
export const YOUNG_SINCE = 1_700_000_000;

function metricOf(query: string): 'errorRate' | 'p50Ms' | 'p95Ms' | 'p99Ms' | 'throughputRps' | 'requests' {
  if (query.includes('histogram_quantile(0.5,')) return 'p50Ms';
  if (query.includes('histogram_quantile(0.95,')) return 'p95Ms';
  if (query.includes('histogram_quantile(0.99,')) return 'p99Ms';
  if (query.includes('code=~"5.."')) return 'errorRate';
  if (query.startsWith('sum(increase(')) return 'requests';
  return 'throughputRps';
}

export async function startPromDouble(): Promise<PromDouble> {
  const queries: PromDouble['queries'] = [];
  const values: PromDouble['values'] = new Map([['stable', { errorRate: 0.002, p99Ms: 120, throughputRps: 190 }]]);
  const double = { scrapeInterval: undefined as string | undefined, youngSince: YOUNG_SINCE };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const params = new URLSearchParams(req.method === 'POST' ? body : url.search);
      queries.push({ path: url.pathname, params });
      const query = params.get('query') ?? '';
      const track = /track="([^"]*)"/.exec(query)?.[1] ?? '';
      const send = (status: number, obj: unknown, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(typeof obj === 'string' ? obj : JSON.stringify(obj));
      };
      const vector = (v: string, n = 1) =>
        send(200, {
          status: 'success',
          data: {
            resultType: 'vector',
            result: Array.from({ length: n }, (_, i) => ({ metric: { i: String(i) }, value: [Date.now() / 1000, v] })),
          },
        });
      if (url.pathname === '/api/v1/query_range') {
        return send(200, {
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [
              {
                metric: {},
                values: [
                  [1, '1'],
                  [2, 'NaN'],
                  [3, '3'],
                ],
              },
            ],
          },
        });
      }
      if (url.pathname === '/api/v1/targets') {
        if (!double.scrapeInterval) return send(404, '404 page not found', 'text/plain');
        const t = (scrapeInterval: string) => ({ labels: { job: 'pods' }, health: 'up', scrapeInterval });
        return send(200, { status: 'success', data: { activeTargets: [t('10s'), t(double.scrapeInterval)], droppedTargets: [] } });
      }
      if (url.pathname !== '/api/v1/query') return send(404, '404 page not found', 'text/plain');
      const m = metricOf(query);
      switch (track) {
        case 'empty':
          return send(200, { status: 'success', data: { resultType: 'vector', result: [] } });
        case 'nan':
          return m === 'throughputRps' ? vector('3') : vector('NaN');
        case 'idle':
          return m === 'throughputRps' || m === 'requests' ? vector('0') : vector('NaN');
        case 'bad':
          return send(400, {
            status: 'error',
            errorType: 'bad_data',
            error: 'invalid parameter "query": 1:5: parse error: unexpected "}"',
          });
        case 'gaveup':
          return send(503, { status: 'error', errorType: 'timeout', error: 'query timed out in expression evaluation' });
        case 'down':
          return send(502, '<html>Bad Gateway</html>', 'text/html');
        case 'slow':
          return void setTimeout(() => vector('1'), 1500);
        case 'multi':
          return vector('1', 2);
        case 'young': {
          // A series first scraped at youngSince: as in Prometheus, nothing answers before it.
          const at = Number(params.get('time') ?? Date.now() / 1000);
          if (at < double.youngSince) return send(200, { status: 'success', data: { resultType: 'vector', result: [] } });
          return vector(m === 'p99Ms' ? '110' : m === 'errorRate' ? '0.001' : m === 'requests' ? '3000' : '50');
        }
        case 'noerrors':
          return m === 'errorRate'
            ? send(200, { status: 'success', data: { resultType: 'vector', result: [] } })
            : vector(m === 'p99Ms' ? '110' : '10');
        default: {
          const v = values.get(track);
          if (!v) return send(200, { status: 'success', data: { resultType: 'vector', result: [] } });
          const window = Number(/\[(\d+)s\]/.exec(query)?.[1] ?? 60);
          const out = {
            errorRate: v.errorRate,
            p50Ms: v.p99Ms / 3,
            p95Ms: v.p99Ms / 1.5,
            p99Ms: v.p99Ms,
            throughputRps: v.throughputRps,
            requests: v.throughputRps * window,
          }[m];
          return vector(String(out));
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    queries,
    values,
    get scrapeInterval() {
      return double.scrapeInterval;
    },
    set scrapeInterval(v) {
      double.scrapeInterval = v;
    },
    get youngSince() {
      return double.youngSince;
    },
    set youngSince(v) {
      double.youngSince = v;
    },
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
