// Shipbot's own Prometheus metrics (prom-client), fed by the runner's events: what Argo Rollouts
// and Flagger users ask of a controller first. Label values stay bounded: no run ids, no
// versions, rule names and reasons from a fixed vocabulary.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { allDecisions, type RunRecord } from '../store/records.js';
import { type RunEvent, type RunStatus, type RunView, rollbackOf } from '../domain/run.js';
import { FINAL_STATUSES } from '../domain/run.js';

export interface Telemetry {
  registry: Registry;
  /** Feeds one runner event (subscribe it to the runner): counts what it tells, one event at a time, in order. */
  onRunEvent(ev: RunEvent): Promise<void>;
  /** Counts one Slack Web API call (`status`: ok, error or rate_limited). */
  slackCall(method: string, status: 'ok' | 'error' | 'rate_limited'): void;
}

const SECONDS = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const ROLLBACK_TIMES = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300];

/** A rollback's reason as a bounded label: the rule that tripped, or the kind of failure. */
export function reasonLabel(reason: string): string {
  const r = reason.toLowerCase();
  for (const [re, label] of [
    [/error rate|availability slo|slo-errors/, 'error-rate'],
    [/p99|p95|p50|latency/, 'latency'],
    [/throughput/, 'throughput'],
    [/crash|oom|image|restart|readiness|progress deadline|will not become available/, 'infrastructure'],
    [/smoke/, 'smoke'],
    [/staging/, 'staging-gate'],
    [/regression/, 'regression'],
    [/pressed|manual|by /, 'manual'],
  ] as const) {
    if (re.test(r)) return label;
  }
  return 'other';
}

export function createTelemetry(opts: {
  record: (runId: string) => Promise<RunRecord | undefined>;
  defaultMetrics?: boolean;
  /** With replicas: whether this one leads, and its term (ops/replica.ts). One replica always leads, term 0. */
  leadership?: () => { leading: boolean; term: number };
}): Telemetry {
  const registry = new Registry();
  const leadership = opts.leadership ?? (() => ({ leading: true, term: 0 }));
  new Gauge({
    name: 'shipbot_leader',
    help: '1 when this replica leads (drives runs and changes clusters), 0 on a standby.',
    registers: [registry],
    collect() {
      this.set(leadership().leading ? 1 : 0);
    },
  });
  new Gauge({
    name: 'shipbot_leader_term',
    help: 'The leadership term this replica holds or last held (the Lease transitions); 0 before it ever led, or with one replica.',
    registers: [registry],
    collect() {
      this.set(leadership().term);
    },
  });
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const deploys = new Counter({
    name: 'shipbot_deploys_total',
    help: 'Deploy runs that ended, by outcome.',
    labelNames: ['service', 'environment', 'strategy', 'outcome'],
    registers: [registry],
  });
  const rollbacks = new Counter({
    name: 'shipbot_rollbacks_total',
    help: 'Rollbacks, automatic or pressed.',
    labelNames: ['service', 'environment', 'trigger', 'reason'],
    registers: [registry],
  });
  const detect = new Histogram({
    name: 'shipbot_time_to_detect_seconds',
    help: 'Stage start to the decision that rolled back.',
    buckets: SECONDS,
    registers: [registry],
  });
  const restore = new Histogram({
    name: 'shipbot_time_to_rollback_seconds',
    help: 'Rollback decision or button to traffic restored and verified.',
    buckets: ROLLBACK_TIMES,
    registers: [registry],
  });
  const decisions = new Counter({
    name: 'shipbot_decisions_total',
    help: 'Judgements made while monitoring, by verdict and deciding rule.',
    labelNames: ['verdict', 'rule'],
    registers: [registry],
  });
  const slackCalls = new Counter({
    name: 'shipbot_slack_api_calls_total',
    help: 'Slack Web API calls, by method and result.',
    labelNames: ['method', 'status'],
    registers: [registry],
  });
  const slackLimited = new Counter({
    name: 'shipbot_slack_rate_limited_total',
    help: 'Slack Web API calls answered 429.',
    registers: [registry],
  });
  const active = new Gauge({ name: 'shipbot_runs_active', help: 'Runs not yet ended.', registers: [registry] });
  const queued = new Gauge({ name: 'shipbot_run_queue_depth', help: 'Runs waiting for a service lock.', registers: [registry] });

  const status = new Map<string, RunStatus>();
  const decided = new Map<string, number>();
  const countStatuses = () => {
    let a = 0;
    let q = 0;
    for (const s of status.values()) {
      if (!FINAL_STATUSES.has(s)) a++;
      if (s === 'queued') q++;
    }
    active.set(a);
    queued.set(q);
  };

  const onEnd = (run: RunView, rec: RunRecord | undefined) => {
    deploys.inc({ service: run.service, environment: run.environment, strategy: run.strategy, outcome: run.phase.status });
    const rb = rec && rollbackOf(rec);
    if (run.phase.status !== 'rolled-back' || !rb) return;
    rollbacks.inc({
      service: run.service,
      environment: run.environment,
      trigger: rb.automatic ? 'auto' : 'manual',
      reason: rb.automatic ? reasonLabel(rb.reason) : 'manual',
    });
    // Detection: from the start of the step that was running to the decision.
    const during = run.steps.filter((s) => s.startedAt !== undefined && s.startedAt <= rb.at).at(-1);
    if (rb.automatic && during?.startedAt !== undefined) detect.observe(Math.max(0, (rb.at - during.startedAt) / 1000));
    const verified = run.steps.find((s) => s.key === 'verify-rollback')?.endedAt ?? run.steps.find((s) => s.key === 'rollback')?.endedAt;
    if (verified !== undefined) restore.observe(Math.max(0, (verified - rb.at) / 1000));
  };

  const count = (run: RunView, rec: RunRecord | undefined) => {
    const before = status.get(run.id);
    status.set(run.id, run.phase.status);
    const list = rec ? allDecisions(rec) : [];
    for (const d of list.slice(decided.get(run.id) ?? 0)) {
      const deciding = d.decision.findings.find((f) => f.verdict === d.decision.verdict && f.verdict !== 'CONTINUE');
      decisions.inc({ verdict: d.decision.verdict, rule: deciding?.rule.replace(/^smoke-.*/, 'smoke') ?? 'all' });
    }
    decided.set(run.id, list.length);
    if (before !== run.phase.status && FINAL_STATUSES.has(run.phase.status) && !(before && FINAL_STATUSES.has(before))) {
      onEnd(run, rec);
      decided.delete(run.id);
    }
    countStatuses();
    // Ended runs leave the gauges' bookkeeping: memory stays bounded over months.
    if (FINAL_STATUSES.has(run.phase.status)) status.delete(run.id);
  };

  // The record is read from the store: one event at a time, so a run's decisions are counted once.
  let tail: Promise<void> = Promise.resolve();
  return {
    registry,
    onRunEvent(ev) {
      if (ev.type !== 'run-updated') return tail;
      tail = tail
        .then(() => opts.record(ev.run.id))
        .then(
          (rec) => count(ev.run, rec),
          () => count(ev.run, undefined),
        );
      return tail;
    },

    slackCall(method, s) {
      slackCalls.inc({ method, status: s });
      if (s === 'rate_limited') slackLimited.inc();
    },
  };
}
