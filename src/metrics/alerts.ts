// Where firing alerts are read: Alertmanager's API v2 when ALERTMANAGER_URL is set (active, not
// silenced nor inhibited, filtered by the service's labels), else Prometheus's own
// `ALERTS_FOR_STATE` series (the moment each firing alert became active). Thin adapters.
import type { FiringAlert } from '../domain/judge-alerts.js';

export interface AlertSource {
  readonly name: string;
  /** The alerts firing now whose labels include `match`. Throws when the source cannot be read. */
  firing(match: Record<string, string>): Promise<FiringAlert[]>;
}

const TIMEOUT_MS = 5000;

export class AlertmanagerSource implements AlertSource {
  readonly name = 'Alertmanager';
  constructor(
    private readonly baseUrl: string,
    private readonly doFetch: typeof fetch = fetch,
  ) {}

  async firing(match: Record<string, string>): Promise<FiringAlert[]> {
    const q = new URLSearchParams({ active: 'true', silenced: 'false', inhibited: 'false' });
    for (const [k, v] of Object.entries(match)) q.append('filter', `${k}=${JSON.stringify(v)}`);
    const res = await this.doFetch(`${this.baseUrl.replace(/\/+$/, '')}/api/v2/alerts?${q}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!res.ok) throw new Error(`Alertmanager answered ${res.status}`);
    const alerts = (await res.json()) as Array<{ labels?: Record<string, string>; startsAt?: string; status?: { state?: string } }>;
    return alerts
      .filter((a) => (a.status?.state ?? 'active') === 'active')
      .map((a) => ({
        name: a.labels?.alertname ?? 'unnamed',
        severity: a.labels?.severity ?? '',
        startsAt: Date.parse(a.startsAt ?? '') || 0,
        labels: a.labels ?? {},
      }));
  }
}

export class PrometheusAlertSource implements AlertSource {
  readonly name = 'Prometheus';
  constructor(
    private readonly baseUrl: string,
    private readonly doFetch: typeof fetch = fetch,
  ) {}

  async firing(match: Record<string, string>): Promise<FiringAlert[]> {
    const sel = Object.entries(match)
      .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
      .join(',');
    // Pending alerts have a for-state too: only those whose ALERTS series says firing count.
    const query = `ALERTS_FOR_STATE{${sel}} and ignoring(alertstate) ALERTS{alertstate="firing"}`;
    const res = await this.doFetch(`${this.baseUrl.replace(/\/+$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`, {
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    const body = (await res.json()) as {
      status?: string;
      error?: string;
      data?: { result?: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    if (body.status !== 'success') throw new Error(`Prometheus answered ${res.status}: ${body.error ?? 'error'}`);
    return (body.data?.result ?? []).map((r) => ({
      name: r.metric.alertname ?? 'unnamed',
      severity: r.metric.severity ?? '',
      startsAt: Number(r.value[1]) * 1000,
      labels: r.metric,
    }));
  }
}
