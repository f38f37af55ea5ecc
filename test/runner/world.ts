// A small world for runner tests: the real sandbox (over HTTP), the real drivers and the
// sandbox metric source, a temp SQLite file and a fast clock. Nothing of ours is mocked.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../../src/clock.js';
import { findService, parseConfig, type ShipbotConfig } from '../../src/config.js';
import { kubeFromKubeconfig, type Kube } from '../../src/cluster/index.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import type { Actor, DeployPlan, DeployRequest } from '../../src/domain/types.js';
import { createLogger } from '../../src/log.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import type { AlertSource } from '../../src/metrics/alerts.js';
import { createRunner, type Runner } from '../../src/runner/index.js';
import type { RunView, StartResult } from '../../src/domain/run.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore, PgStore, type Store } from '../../src/store/index.js';

export const SHIPPED = parseConfig(readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8'));

/** The shipped config without staging environments: runs go straight to production. */
export function withoutStaging(cfg: ShipbotConfig = SHIPPED): ShipbotConfig {
  return { ...cfg, services: cfg.services.map((s) => ({ ...s, environments: { production: s.environments.production } })) };
}

export const REQUESTER: Actor = { userId: 'U_DEV', name: 'dev' };
export const IC: Actor = { userId: 'U_IC', name: 'ic' };
export const STRANGER: Actor = { userId: 'U_OTHER', name: 'other' };

/** Short windows so a whole run takes seconds at the test speed. */
export const FAST = { stageWindowSec: 30, monitoringIntervalSec: 5, observationSec: 30 } as const;

export interface World {
  config: ShipbotConfig;
  clock: ScaledClock;
  sandbox: Sandbox;
  store: Store;
  runner: Runner;
  dbFile: string;
  reportsDir: string;
  /** A new runner (and store) on the same database and sandbox, as after a restart. */
  restart(config?: ShipbotConfig): Runner;
  plan(text: string, over?: Partial<DeployPlan>): { request: DeployRequest; plan: DeployPlan };
  deploy(
    text: string,
    over?: Partial<DeployPlan>,
    extra?: { requester?: Actor; queueIfLocked?: boolean; dedupeKey?: string },
  ): Promise<StartResult>;
  close(): Promise<void>;
}

/** `firstKube`: the first runner's cluster client (a severable one, to crash it); later runners get a fresh one. */
export async function startWorld(
  opts: {
    config?: ShipbotConfig;
    speed?: number;
    storeRetryMs?: number;
    firstKube?: (sandbox: Sandbox) => Promise<Kube>;
    /** GitOps tests: git's environment (CA, credentials) for the sandbox's stand-ins and Shipbot's credentials. */
    git?: { env: NodeJS.ProcessEnv; creds: { SHIPBOT_GIT_TOKEN?: string; SHIPBOT_GIT_USERNAME?: string } };
    /** Where firing alerts are read (an Alertmanager on loopback). */
    alerts?: AlertSource;
    /** A Postgres database for the store (test/helpers/postgres.ts); SQLite in a temporary file without it. */
    databaseUrl?: string;
  } = {},
): Promise<World> {
  const config = opts.config ?? withoutStaging();
  const clock = new ScaledClock(opts.speed ?? 100);
  // Warm: the demo pods are Ready from the start, so preflight never races them becoming Ready.
  const sandbox = await startSandbox({ clock, demo: true, warm: true, config, ...(opts.git ? { gitEnv: opts.git.env } : {}) });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-runner-'));
  const dbFile = path.join(dir, 'shipbot.db');
  const reportsDir = path.join(dir, 'reports');
  const logger = createLogger('silent');
  const stores: Store[] = [];
  const runners: Runner[] = [];
  const firstKube = opts.firstKube ? await opts.firstKube(sandbox) : undefined;
  if (opts.databaseUrl) await (await PgStore.open(opts.databaseUrl)).close(); // migrated once, as the first replica does
  const make = (cfg: ShipbotConfig) => {
    const store = opts.databaseUrl ? PgStore.connect(opts.databaseUrl) : openStore(dbFile);
    stores.push(store);
    const kube = runners.length === 0 && firstKube ? firstKube : kubeFromKubeconfig(sandbox.kubeconfigYaml());
    const runner = createRunner({
      store,
      config: cfg,
      clock,
      kube,
      metrics: new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch }),
      logger,
      reportsDir,
      pollMs: 1000,
      ...(opts.storeRetryMs !== undefined ? { storeRetryMs: opts.storeRetryMs } : {}),
      ...(opts.git ? { git: { creds: opts.git.creds, env: opts.git.env } } : {}),
      ...(opts.alerts ? { alerts: opts.alerts } : {}),
    });
    runners.push(runner);
    return { store, runner };
  };
  const first = make(config);
  const world: World = {
    config,
    clock,
    sandbox,
    store: first.store,
    runner: first.runner,
    dbFile,
    reportsDir,
    restart(cfg = config) {
      const next = make(cfg);
      world.store = next.store;
      world.runner = next.runner;
      return next.runner;
    },
    plan(text, over = {}) {
      const parsed = parseCommand(text, config);
      if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error(`not a deploy request: ${text}`);
      const request = parsed.command;
      // A risk given here is planned as one asked for (its threshold and steps), then the rest applies.
      const asked = over.risk ? { ...request, risk: over.risk } : request;
      const plan = { ...buildPlan(asked, findService(config, request.service!)!, config), ...FAST, ...over };
      return { request, plan };
    },
    deploy(text, over = {}, extra = {}) {
      const { request, plan } = world.plan(text, over);
      return world.runner.start({
        request,
        plan,
        requester: extra.requester ?? REQUESTER,
        origin: { kind: 'terminal' },
        ...(extra.queueIfLocked ? { queueIfLocked: true } : {}),
        ...(extra.dedupeKey ? { dedupeKey: extra.dedupeKey } : {}),
      });
    },
    async close() {
      for (const r of runners) await r.close();
      await sandbox.close();
      for (const s of stores) await s.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

/** Resolves with the run's view once `pred` holds (checked now and on every update). */
export function until(runner: Runner, runId: string, pred: (run: RunView) => boolean | Promise<boolean>): Promise<RunView> {
  return new Promise((resolve) => {
    let done = false;
    const offer = async (run: RunView | undefined) => {
      if (!run || done || !(await pred(run)) || done) return;
      done = true;
      off();
      resolve(run);
    };
    const off = runner.subscribe((ev) => void (ev.type === 'run-updated' && ev.run.id === runId && offer(ev.run)));
    void runner.get(runId).then(offer);
  });
}

export function started(r: StartResult): RunView {
  if (!r.ok) throw new Error(`start refused: ${r.reason}: ${r.message}`);
  return r.run;
}

/** The image the Deployment's container runs now, read through the Kubernetes API. */
export async function liveImage(w: World, service: string, namespace = 'production'): Promise<string | undefined> {
  const kube = kubeFromKubeconfig(w.sandbox.kubeconfigYaml());
  const d = await kube.apps.readNamespacedDeployment({ name: service, namespace });
  return d.spec?.template.spec?.containers.find((c) => c.name === 'app')?.image;
}

/** Images of the Ready pods the Service routes to now (what users get), through the Kubernetes API. */
export async function servingImages(w: World, service: string, namespace = 'production'): Promise<string[]> {
  const kube = kubeFromKubeconfig(w.sandbox.kubeconfigYaml());
  const svc = await kube.core.readNamespacedService({ name: service, namespace });
  const selector = Object.entries(svc.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await kube.core.listNamespacedPod({ namespace, labelSelector: selector });
  const ready = pods.items.filter(
    (p) => !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  return [...new Set(ready.map((p) => p.spec?.containers[0]?.image ?? '?'))].sort();
}
