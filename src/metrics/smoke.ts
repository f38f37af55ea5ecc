// Smoke checks from the service config, run in parallel against a target (idle colour, canary,
// or the Service). Each result carries its latency and, when it failed, why — in words.
import type { SmokeCheck } from '../config.js';

export interface SmokeResult {
  name: string;
  url: string;
  ok: boolean;
  /** A failing critical check fails the gate; others only warn. */
  critical: boolean;
  /** HTTP status, when an answer came. */
  status?: number;
  /** Real milliseconds from sending to the end of the answer (or to the failure), last attempt. */
  latencyMs: number;
  reason?: string;
  /** 2 when a read check got no answer the first time and was asked again. */
  attempts: number;
}

export interface SmokeOptions {
  /**
   * The fetch to use: pass one that carries cluster credentials when `baseUrl` is a Kubernetes
   * API service-proxy URL on a real cluster. Default: global fetch.
   */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
}

/**
 * `{{namespace}}` and `{{service}}` of the Service a service-proxy base URL points at (the
 * canary's, the idle colour's, or the live one), so a check may name an in-cluster URL instead,
 * e.g. `http://{{service}}.{{namespace}}.svc.cluster.local/health`, for Shipbot in a pod.
 */
export function serviceProxyVars(baseUrl: string): Record<string, string> {
  const m = /\/api\/v1\/namespaces\/([^/]+)\/services\/([^/:]+)(?::[^/]*)?\/proxy\/?$/.exec(baseUrl);
  return m ? { namespace: decodeURIComponent(m[1]!), service: decodeURIComponent(m[2]!) } : {};
}

/** Fills `{{baseUrl}}` and any other `{{name}}` from `vars`; unknown placeholders are an error. */
export function renderUrl(template: string, baseUrl: string, vars: Record<string, string> = {}): string {
  const values: Record<string, string> = { ...vars, baseUrl: baseUrl.replace(/\/+$/, '') };
  return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`smoke check URL uses {{${name}}}, which is not known (known: ${Object.keys(values).join(', ')})`);
    return name === 'baseUrl' ? v : encodeURIComponent(v);
  });
}

/** Runs every check at once; never throws — a check that cannot run is a failed result. */
export async function runSmokeChecks(
  checks: readonly SmokeCheck[],
  baseUrl: string,
  vars: Record<string, string> = {},
  opts: SmokeOptions = {},
): Promise<SmokeResult[]> {
  return Promise.all(checks.map((c) => runOne(c, baseUrl, vars, opts)));
}

/**
 * A read (GET/HEAD) that got no answer in time is asked once more before it counts as failed: on
 * a loaded node one lost answer is not the version's fault. A wrong answer is never retried.
 */
async function runOne(check: SmokeCheck, baseUrl: string, vars: Record<string, string>, opts: SmokeOptions): Promise<SmokeResult> {
  const method = check.method ?? 'GET';
  const first = await attempt(check, baseUrl, vars, opts);
  if (!first.timedOut || (method !== 'GET' && method !== 'HEAD')) return { ...first.result, attempts: 1 };
  const second = await attempt(check, baseUrl, vars, opts);
  const r = second.result;
  return { ...r, attempts: 2, ...(r.ok ? {} : { reason: `${r.reason} (asked twice)` }) };
}

type Attempt = { timedOut: boolean; result: Omit<SmokeResult, 'attempts'> };

async function attempt(check: SmokeCheck, baseUrl: string, vars: Record<string, string>, opts: SmokeOptions): Promise<Attempt> {
  const critical = check.critical ?? true;
  const done = (result: Omit<SmokeResult, 'attempts'>, timedOut = false): Attempt => ({ timedOut, result });
  let url: string;
  try {
    url = renderUrl(check.url, baseUrl, vars);
  } catch (err) {
    return done({ name: check.name, url: check.url, ok: false, critical, latencyMs: 0, reason: (err as Error).message });
  }
  const doFetch = opts.fetch ?? fetch;
  const started = performance.now();
  const elapsed = () => performance.now() - started;
  const method = check.method ?? 'GET';
  const timeoutMs = check.timeoutMs ?? 2000;
  try {
    const res = await doFetch(url, { method, headers: opts.headers, signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    const body = method === 'HEAD' ? '' : await res.text();
    const latencyMs = elapsed();
    const expectStatus = check.expectStatus ?? 200;
    if (res.status !== expectStatus) {
      return done({
        name: check.name,
        url,
        ok: false,
        critical,
        status: res.status,
        latencyMs,
        reason: `expected status ${expectStatus}, got ${res.status}${snippet(body)}`,
      });
    }
    if (check.expectBody !== undefined && !body.includes(check.expectBody)) {
      return done({
        name: check.name,
        url,
        ok: false,
        critical,
        status: res.status,
        latencyMs,
        reason: `expected the body to contain "${check.expectBody}"${snippet(body, 'got')}`,
      });
    }
    return done({ name: check.name, url, ok: true, critical, status: res.status, latencyMs });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const latencyMs = elapsed();
    const timedOut = e.name === 'TimeoutError' || e.name === 'AbortError';
    const reason = timedOut ? `no answer within ${timeoutMs} ms` : `request failed: ${e.cause?.code ?? e.cause?.message ?? e.message}`;
    return done({ name: check.name, url, ok: false, critical, latencyMs, reason }, timedOut);
  }
}

function snippet(body: string, lead = ''): string {
  const s = body.replace(/\s+/g, ' ').trim().slice(0, 80);
  return s ? ` (${lead ? `${lead} ` : ''}"${s}")` : '';
}
