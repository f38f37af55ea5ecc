// Wiring: a Runner against its clusters (one per kubeconfig context, or the sandbox) and one
// metric source. Front ends (`shipbot start`, `shipbot deploy`, tests, the benchmark) build the
// runner here.
import type { Clock } from '../clock.js';
import type { ShipbotConfig } from '../config.js';
import { createDriver, type DriverTarget, diagnose, runMigration, singleCluster, type Clusters, type Kube } from '../cluster/index.js';
import type { RolloutDriver } from '../cluster/types.js';
import type { Strategy } from '../domain/types.js';
import type { Logger } from '../log.js';
import type { MetricSource } from '../metrics/types.js';
import type { AlertSource } from '../metrics/alerts.js';
import type { Summarise } from '../reports/report.js';
import type { Store } from '../store/run-store.js';
import { createAnalysis } from './analysis.js';
import { gitopsActions } from '../gitops/actions.js';
import type { GitCredentials } from '../gitops/git.js';
import { Runner } from './runner.js';

export interface CreateRunnerOptions {
  store: Store;
  config: ShipbotConfig;
  clock: Clock;
  /** The clusters, by kubeconfig context; or `kube` for one cluster behind every context. */
  clusters?: Clusters;
  kube?: Kube;
  metrics: MetricSource;
  logger: Logger;
  reportsDir: string;
  summarise?: Summarise;
  /** Clock ms between rollout status polls (driver default 2000). */
  pollMs?: number;
  /** Clock seconds a stage may take before it fails (driver default 660). */
  rolloutTimeoutSec?: number;
  /** Real ms a busy database is waited out before a run is held (default 10 min). */
  storeRetryMs?: number;
  /** Git credentials (SHIPBOT_GIT_*) and, for tests, git's environment (a CA to trust). */
  git?: { creds: GitCredentials; env?: NodeJS.ProcessEnv };
  /** Where firing alerts are read (services' `alerts` gate); without it the gate is off. */
  alerts?: AlertSource;
  /** With replicas: whether this one leads and so drives runs (ops/replica.ts). */
  acting?: () => boolean;
}

export function createRunner(o: CreateRunnerOptions): Runner {
  const clusters = o.clusters ?? (o.kube ? singleCluster(o.kube) : undefined);
  if (!clusters) throw new Error('createRunner needs clusters or kube');
  const driverDeps = (context?: string) => ({
    kube: clusters.kube(context),
    clock: o.clock,
    log: o.logger,
    retireAfterSec: o.config.defaults.blueGreenRetireAfterSec,
    ...(o.pollMs !== undefined ? { pollMs: o.pollMs } : {}),
    ...(o.rolloutTimeoutSec !== undefined ? { rolloutTimeoutSec: o.rolloutTimeoutSec } : {}),
  });
  // One driver per strategy and cluster, shared by all runs: drivers keep no per-run state in memory.
  const drivers = new Map<string, RolloutDriver>();
  const driverFor = (s: Strategy, at: DriverTarget = {}) => {
    const key = `${s}|${at.context ?? ''}|${at.kind ?? 'Deployment'}`;
    let d = drivers.get(key);
    if (!d) drivers.set(key, (d = createDriver(s, driverDeps(at.context), at.kind)));
    return d;
  };
  return new Runner({
    store: o.store,
    config: o.config,
    clock: o.clock,
    drivers: driverFor,
    analysis: createAnalysis({
      metrics: o.metrics,
      clock: o.clock,
      defaults: o.config.defaults,
      fetch: clusters.fetch,
      ...(o.alerts ? { alerts: o.alerts } : {}),
    }),
    logger: o.logger,
    reportsDir: o.reportsDir,
    ...(o.summarise ? { summarise: o.summarise } : {}),
    ...(o.storeRetryMs !== undefined ? { storeRetryMs: o.storeRetryMs } : {}),
    ...(o.acting ? { acting: o.acting } : {}),
    diagnose: (ref, state) => diagnose(driverDeps(ref.context), ref, state),
    migrate: (ref, target, opts) => runMigration(driverDeps(ref.context), target, opts),
    gitops: gitopsActions(clusters, o.git?.creds ?? {}, o.git?.env),
  });
}

export { Runner, toView, defaultRef, lockedMessage, type RunnerDeps } from './runner.js';
export { createAnalysis, type RunAnalysis } from './analysis.js';
export { renderRun, changedLines, exitCodeFor } from './terminal-view.js';
export type * from '../domain/run.js';
