// The team's own gates, asked over HTTP as Flagger's webhooks are (`services[].checks`): a POST
// with the release (service, version, the exact digest once known, environment, run id, which
// gate); a 2xx passes, any other status or no answer in time blocks, with the first line of the
// answer shown. Sent with the process's own fetch, never the clusters' (their credentials stay
// with the clusters).
import type { HttpCheck } from '../config.js';
import { scrubSecrets } from '../domain/redact.js';
import type { Environment } from '../domain/types.js';

export interface CheckRelease {
  gate: 'pre-deploy' | 'pre-promotion';
  service: string;
  version: string;
  /** `sha256:…` of the build the release's first pods pulled; null before any ran. */
  digest: string | null;
  environment: Environment;
  runId: string;
}

export interface HttpCheckResult {
  name: string;
  ok: boolean;
  detail: string;
}

/** Every check at once, each with its own timeout. */
export function callChecks(checks: readonly HttpCheck[], release: CheckRelease, doFetch: typeof fetch = fetch): Promise<HttpCheckResult[]> {
  return Promise.all(checks.map((c) => callCheck(c, release, doFetch)));
}

async function callCheck(c: HttpCheck, release: CheckRelease, doFetch: typeof fetch): Promise<HttpCheckResult> {
  try {
    const res = await doFetch(c.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'shipbot' },
      body: JSON.stringify(release),
      signal: AbortSignal.timeout(c.timeoutMs),
    });
    const line = firstLine(await res.text().catch(() => ''));
    return res.ok
      ? { name: c.name, ok: true, detail: `HTTP ${res.status}${line ? `: ${line}` : ''}` }
      : { name: c.name, ok: false, detail: `HTTP ${res.status}${line ? `: ${line}` : ' (no body)'}` };
  } catch (err) {
    const e = err as Error;
    const why = e.name === 'TimeoutError' ? `no answer within ${c.timeoutMs} ms` : `not reachable (${e.message})`;
    return { name: c.name, ok: false, detail: why };
  }
}

/** The first non-empty line of an answer, short, with anything that looks like a secret removed. */
export function firstLine(body: string): string {
  const line =
    body
      .split(/\r?\n/)
      .find((l) => l.trim())
      ?.trim() ?? '';
  const short = line.length > 200 ? `${line.slice(0, 199)}…` : line;
  return scrubSecrets(short);
}

/** Results in one line: "security-scan: HTTP 500: 2 High vulnerabilities; tests: HTTP 200". */
export function checksLine(results: readonly HttpCheckResult[]): string {
  return results.map((r) => `${r.name}: ${r.detail}`).join('; ');
}
