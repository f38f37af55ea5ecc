// fetch() through a kubeconfig's credentials: the cluster's CA, a client certificate, a bearer
// or exec token, as client-node applies them to its own calls. Smoke checks reach pods through
// the API server's service proxy, which a real cluster only opens to authenticated callers.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

const MAX_BODY = 4 * 1024 * 1024;

function headerRecord(init?: HeadersInit): Record<string, string> {
  const out: Record<string, string> = {};
  new Headers(init).forEach((v, k) => (out[k] = v));
  return out;
}

export function clusterFetch(kc: KubeConfig): typeof fetch {
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    const opts: https.RequestOptions = { method: init.method ?? 'GET', headers: headerRecord(init.headers) };
    // Fills in the CA, client cert/key, TLS verification and the Authorization header (refreshing exec tokens).
    await kc.applyToHTTPSOptions(opts);
    const body = typeof init.body === 'string' ? init.body : init.body === undefined || init.body === null ? undefined : String(init.body);
    const signal = init.signal ?? undefined;
    signal?.throwIfAborted();
    return new Promise<Response>((resolve, reject) => {
      const lib = url.protocol === 'http:' ? http : https;
      const req = lib.request(url, opts, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error(`response from ${url.host} is larger than 4 MiB`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const headers = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
          const status = res.statusCode ?? 0;
          const noBody = status === 204 || status === 304 || (opts.method ?? 'GET').toUpperCase() === 'HEAD';
          resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, statusText: res.statusMessage, headers }));
        });
        res.on('error', reject);
      });
      const onAbort = () =>
        req.destroy(signal?.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted.', 'AbortError'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.on('close', () => signal?.removeEventListener('abort', onAbort));
      req.on('error', reject);
      req.end(body);
    });
  }) as typeof fetch;
}
