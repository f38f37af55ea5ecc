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
  /** How many times it was asked: 2 when a read got no answer the first time, more while Shipbot itself was lagging. */
  attempts: number;
  /**
   * No answer, but Shipbot's own event loop was lagging each time it asked: the service may be
   * fine and Shipbot too busy to hear it. A person decides; it never rolls back by itself.
   */
  unclear?: boolean;
}

export interface SmokeOptions {
  /**
   * The fetch to use: pass one that carries cluster credentials when `baseUrl` is a Kubernetes
   * API service-proxy URL on a real cluster. Default: global fetch.
   */
  fetch?: typeof fetch;
  headers?: Record<string, string>;
  /** Waits before asking again while Shipbot itself lags (ms); one more attempt per entry. */
  lagBackoffMs?: readonly number[];
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
 * Backoff before asking again while Shipbot's own event loop lags (ms): about 15 s in all, as long
 * as a burst of a hundred deploys starting at once keeps one process saturated.
 */
const LAG_BACKOFF_MS = [250, 1000, 2000, 4000, 8000];

/**
 * A read (GET/HEAD) that got no answer in time, or whose connection was cut, is asked once more
 * before it counts as failed: on a loaded node one lost answer is not the version's fault. When Shipbot's own event loop was
 * held up, in all, for half the check's timeout (at least 100 ms) while it waited, the timeout
 * says nothing about the service: it is asked again with backoff, and if Shipbot stays that busy
 * the result is unclear, for a person to decide. A wrong answer is never retried.
 */
async function runOne(check: SmokeCheck, baseUrl: string, vars: Record<string, string>, opts: SmokeOptions): Promise<SmokeResult> {
  const method = check.method ?? 'GET';
  let a = await attempt(check, baseUrl, vars, opts);
  if (!a.timedOut || (method !== 'GET' && method !== 'HEAD')) return { ...a.result, attempts: 1 };
  const laggingNow = (x: Attempt) => x.lagMs >= Math.max(100, (check.timeoutMs ?? 2000) / 2);
  const backoff = opts.lagBackoffMs ?? LAG_BACKOFF_MS;
  let attempts = 1;
  let lagged = laggingNow(a);
  while (a.timedOut && (attempts < 2 || (lagged && attempts <= backoff.length))) {
    if (lagged) await new Promise((r) => setTimeout(r, backoff[attempts - 1]));
    a = await attempt(check, baseUrl, vars, opts);
    attempts++;
    lagged = laggingNow(a);
  }
  const r = a.result;
  if (r.ok || !a.timedOut) return { ...r, attempts };
  if (lagged)
    return {
      ...r,
      attempts,
      unclear: true,
      reason: `${r.reason}, asked ${attempts} times while Shipbot itself was busy (its event loop held up ${Math.round(a.lagMs)} ms while it waited): cannot tell a slow service from a busy Shipbot`,
    };
  return { ...r, attempts, reason: `${r.reason} (asked ${attempts === 2 ? 'twice' : `${attempts} times`})` };
}

/** One try; `lagMs`: how long, in all, this process's event loop was held up while it waited. */
type Attempt = { timedOut: boolean; lagMs: number; result: Omit<SmokeResult, 'attempts'> };

async function attempt(check: SmokeCheck, baseUrl: string, vars: Record<string, string>, opts: SmokeOptions): Promise<Attempt> {
  const lag = lagProbe();
  try {
    const a = await tryOnce(check, baseUrl, vars, opts);
    return { ...a, lagMs: lag.totalMs() };
  } finally {
    lag.stop();
  }
}

/**
 * How late a 10 ms timer fires, summed over an attempt's wait: how long this process's event loop
 * was held up while it waited, whether by one long block or by many short ones (a saturated
 * process answers every timer a little late). (perf_hooks' delay histogram, sampled right after
 * one long block, had not recorded it yet; a timer's drift measured up to now has.)
 */
function lagProbe(): { totalMs(): number; stop(): void } {
  const every = 10;
  let last = performance.now();
  let total = 0;
  const tick = () => {
    const now = performance.now();
    total += Math.max(0, now - last - every);
    last = now;
  };
  const timer = setInterval(tick, every);
  timer.unref();
  return {
    totalMs: () => {
      tick();
      return total;
    },
    stop: () => clearInterval(timer),
  };
}

async function tryOnce(
  check: SmokeCheck,
  baseUrl: string,
  vars: Record<string, string>,
  opts: SmokeOptions,
): Promise<Omit<Attempt, 'lagMs'>> {
  const critical = check.critical ?? true;
  const done = (result: Omit<SmokeResult, 'attempts'>, timedOut = false) => ({ timedOut, result });
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
    // A connection cut before the answer (a kept-alive socket the server had just closed) is no answer either.
    const cut = ['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET'].includes(e.cause?.code ?? '');
    return done({ name: check.name, url, ok: false, critical, latencyMs, reason }, timedOut || cut);
  }
}

function snippet(body: string, lead = ''): string {
  const s = body.replace(/\s+/g, ' ').trim().slice(0, 80);
  return s ? ` (${lead ? `${lead} ` : ''}"${s}")` : '';
}
