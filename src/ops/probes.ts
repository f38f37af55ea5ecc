// GET /healthz, /readyz and /metrics on PORT, in Socket Mode and HTTP mode alike: as Bolt custom
// routes beside /slack/events in HTTP mode, on a small server of their own in Socket Mode (where
// nothing else listens). /readyz names every reason it is not ready.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface ProbeOptions {
  /** Reasons Shipbot cannot serve now (store closed, Slack not connected, a cluster silent); empty when ready. */
  notReady: () => Promise<string[]>;
  registry: Registry;
}

export interface ProbeRoute {
  path: string;
  method: string[];
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

export function probeRoutes(o: ProbeOptions): ProbeRoute[] {
  return [
    // Alive: the event loop answered. Nothing else is checked, so a slow cluster never restarts the pod.
    { path: '/healthz', method: ['GET'], handler: (_req, res) => send(res, 200, 'ok\n') },
    {
      path: '/readyz',
      method: ['GET'],
      handler: (_req, res) => {
        o.notReady().then(
          (reasons) =>
            reasons.length ? send(res, 503, `not ready:\n${reasons.map((r) => `- ${r}`).join('\n')}\n`) : send(res, 200, 'ready\n'),
          (err: unknown) => send(res, 503, `not ready: ${(err as Error).message}\n`),
        );
      },
    },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (_req, res) => {
        o.registry.metrics().then(
          (text) => send(res, 200, text, o.registry.contentType),
          (err: unknown) => send(res, 500, `metrics failed: ${(err as Error).message}\n`),
        );
      },
    },
  ];
}

/** `/reports/:run` against `/reports/r-1`: the named segments, or undefined when the path is another. */
export function matchRoute(pattern: string, path: string): Record<string, string> | undefined {
  const want = pattern.split('/');
  const got = path.split('/');
  if (want.length !== got.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, w] of want.entries()) {
    if (w.startsWith(':') && got[i]) {
      try {
        params[w.slice(1)] = decodeURIComponent(got[i]!);
      } catch {
        return undefined; // malformed escapes name nothing
      }
    } else if (w !== got[i]) return undefined;
  }
  return params;
}

/** The probes (and report pages) on a server of their own (Socket Mode); anything else is 404. */
export async function startProbeServer(
  routes: ProbeRoute[],
  port: number,
  host?: string,
): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://probe').pathname;
    for (const route of routes) {
      const params = route.method.includes(req.method ?? 'GET') ? matchRoute(route.path, path) : undefined;
      // As Bolt's HTTP receiver does for its custom routes: the named segments on `req.params`.
      if (params) return route.handler(Object.assign(req, { params }), res);
    }
    send(res, 404, 'not found\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    // A kubelet's (or a test's) keep-alive connection must not hold PORT from Bolt's server.
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

/**
 * Whether each cluster answers (GET /version through its credentials, 3 s), remembered for a few
 * seconds so a probe every second does not become a load on the API servers.
 */
export function clusterReadiness(
  clusters: () => Array<{ server: string; context: string; fetch: typeof fetch }>,
  ttlMs = 5000,
): () => Promise<string[]> {
  let cached: { at: number; reasons: string[] } | undefined;
  return async () => {
    if (cached && Date.now() - cached.at < ttlMs) return cached.reasons;
    const reasons: string[] = [];
    await Promise.all(
      clusters().map(async (k) => {
        try {
          const res = await k.fetch(`${k.server}/version`, { signal: AbortSignal.timeout(3000) });
          if (!res.ok) reasons.push(`cluster ${k.context || k.server} answered HTTP ${res.status}`);
        } catch (err) {
          reasons.push(`cluster ${k.context || k.server} does not answer: ${(err as Error).message}`);
        }
      }),
    );
    cached = { at: Date.now(), reasons };
    return reasons;
  };
}

/**
 * Calls `attempt` until it succeeds: waits 1 s, 2 s, 4 s … (at most `maxMs`) between tries.
 * Resolves undefined when `stopped()` turns true first.
 */
export async function retryWithBackoff<T>(
  attempt: () => Promise<T>,
  o: {
    clock: { sleep(ms: number): Promise<void> };
    onFailure?: (err: unknown, waitMs: number) => void;
    stopped?: () => boolean;
    firstMs?: number;
    maxMs?: number;
  },
): Promise<T | undefined> {
  let wait = o.firstMs ?? 1000;
  for (;;) {
    if (o.stopped?.()) return undefined;
    try {
      return await attempt();
    } catch (err) {
      if (o.stopped?.()) return undefined;
      o.onFailure?.(err, wait);
      await o.clock.sleep(wait);
      wait = Math.min(o.maxMs ?? 30_000, wait * 2);
    }
  }
}
