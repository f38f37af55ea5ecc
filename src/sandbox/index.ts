// startSandbox(): the embedded cluster. An HTTPS server on 127.0.0.1 that speaks the Kubernetes
// API behind a real API server's door (its own CA, a bearer token, 401 for anything else), with
// simulated controllers, kubelets, traffic and metrics running on one clock.
import { mkdirSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import path from 'node:path';
import type { Logger } from 'pino';
import { realClock, type Clock } from '../clock.js';
import type { ShipbotConfig } from '../config.js';
import { ApiServer } from './apiServer.js';
import { DeploymentController } from './deploymentController.js';
import { demoServices, seedCluster, seedDemo } from './demo.js';
import { EventRecorder } from './events.js';
import type { AuditEvent } from './audit.js';
import { createHandler } from './http.js';
import { JobController } from './jobController.js';
import { ArgoCdStandIn } from './argocd.js';
import { GitApplier } from './git-applier.js';
import { FluxStandIn } from './flux.js';
import { Kubelet } from './kubelet.js';
import { ReplicaSetController } from './replicaSetController.js';
import { RolloutController } from './rolloutController.js';
import { AnalysisController } from './analysisController.js';
import { persistStore, readSandboxState } from './persist.js';
import { RESOURCES } from './resources.js';
import { syncRouteStatus } from './routes.js';
import { ObjectStore } from './store.js';
import { newSandboxToken, sandboxTls } from './tls.js';
import { TrafficSimulator, type TrafficOptions } from './traffic.js';

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  clock?: Clock;
  /** Seed namespaces staging/production with checkout, payments and search at v1.2.2. */
  demo?: boolean;
  /**
   * With `demo`: start as if the demo had been running for a while — its pods Ready at once and
   * `warmSec` (default 600) of traffic history already in the metrics.
   */
  warm?: boolean;
  warmSec?: number;
  /** Services for the demo workload (default: data/shipbot.yml). */
  config?: ShipbotConfig;
  /** Virtual ms from pod creation to Ready (default 3000). */
  podStartMs?: number;
  /** Real ms between simulation ticks (default 50). */
  tickMs?: number;
  traffic?: Partial<TrafficOptions>;
  /** Changes kept for watch resume; older resourceVersions get 410 Expired (default 20000). */
  watchHistory?: number;
  logger?: Logger;
  /** The bearer token clients must send (default: a fresh random one). */
  token?: string;
  /**
   * Keep the cluster in this file: loaded at start when it exists, saved after changes and at
   * close, so a restart finds the workloads as they were (start the clock with resumedClockAt).
   */
  stateFile?: string;
  /** git's environment for the reconciler stand-ins (a CA to trust, credentials); default process.env. */
  gitEnv?: NodeJS.ProcessEnv;
}

export interface Sandbox {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** The bearer token every request must carry. */
  readonly token: string;
  /** PEM of the CA that signed the serving certificate. */
  readonly caPem: string;
  readonly clock: Clock;
  readonly store: ObjectStore;
  readonly api: ApiServer;
  readonly traffic: TrafficSimulator;
  /** A kubeconfig for `url` with the CA and the token: cluster, user and context named `context` (default `sandbox`). */
  kubeconfigYaml(context?: string): string;
  writeKubeconfig(file: string, context?: string): void;
  /** The API server's audit log of writes (level Request): what clients sent, byte for byte. */
  auditLog(): readonly AuditEvent[];
  /** Runs the controllers and traffic once now (tests use it to avoid waiting for a tick). */
  reconcile(): void;
  /** Stats of the simulation loop, for benchmarks: ticks run and real ms spent in them. */
  loopStats(): { ticks: number; busyMs: number; maxTickMs: number; lastTickAt: number };
  /** Connections the API server has accepted since it started (a client that keeps its connections opens few). */
  connectionsAccepted(): number;
  close(): Promise<void>;
}

/** Sandbox options from the environment: SHIPBOT_SANDBOX_RPS simulated users per Service. */
export function sandboxTraffic(env: { SHIPBOT_SANDBOX_RPS?: number }): Pick<SandboxOptions, 'traffic'> {
  return env.SHIPBOT_SANDBOX_RPS === undefined ? {} : { traffic: { rps: env.SHIPBOT_SANDBOX_RPS } };
}

export function kubeconfigYaml(url: string, caPem: string, token: string, context = 'sandbox'): string {
  // Cluster and user are named after the port, so two sandboxes' kubeconfigs merge (KUBECONFIG=a:b)
  // without one's cluster shadowing the other's, whatever their contexts are renamed to.
  const id = `shipbot-sandbox-${new URL(url).port}`;
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: ${id}`,
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`,
    'contexts:',
    `- name: ${context}`,
    '  context:',
    `    cluster: ${id}`,
    `    user: ${id}`,
    '    namespace: default',
    `current-context: ${context}`,
    'users:',
    `- name: ${id}`,
    '  user:',
    `    token: ${token}`,
    'preferences: {}',
    '',
  ].join('\n');
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const clock = opts.clock ?? realClock;
  const podStartMs = opts.podStartMs ?? 3000;
  const tickMs = opts.tickMs ?? 50;
  const store = new ObjectStore(clock, opts.watchHistory);
  const api = new ApiServer(store);
  const events = new EventRecorder(store, clock);
  const deployments = new DeploymentController(store, events, clock);
  const replicaSets = new ReplicaSetController(store, events, clock);
  const rollouts = new RolloutController(store, events, clock);
  const jobs = new JobController(store, events, clock);
  const kubelet = new Kubelet(store, events, clock, () => podStartMs);
  const traffic = new TrafficSimulator(store, clock, opts.traffic);
  const analysisRuns = new AnalysisController(store, clock, (filter, windowSec) => {
    traffic.tick(); // measured as /sandbox/v1/metrics answers: caught up with the clock
    return traffic.sample(filter, windowSec);
  });
  const stats = { ticks: 0, busyMs: 0, maxTickMs: 0, lastTickAt: clock.now() };

  let closed = false;
  const reconcile = () => {
    const t0 = performance.now();
    // Controllers in dependency order; repeat while they still change things (bounded).
    for (let i = 0; i < 4; i++) {
      const before = store.resourceVersion;
      deployments.syncAll();
      rollouts.syncAll();
      analysisRuns.syncAll();
      replicaSets.syncAll();
      jobs.syncAll();
      kubelet.syncAll();
      syncRouteStatus(store, clock.now());
      if (store.resourceVersion === before) break;
    }
    traffic.tick();
    const ms = performance.now() - t0;
    stats.ticks++;
    stats.busyMs += ms;
    stats.maxTickMs = Math.max(stats.maxTickMs, ms);
    stats.lastTickAt = clock.now();
  };

  // Writes from clients get a prompt reaction; time-driven changes come from the tick loop.
  let kicked = false;
  let inReconcile = false;
  const safeReconcile = () => {
    if (closed || inReconcile) return;
    inReconcile = true;
    try {
      reconcile();
    } catch (err) {
      opts.logger?.error({ err }, 'sandbox: reconcile failed');
    } finally {
      inReconcile = false;
    }
  };
  store.onChange((c) => {
    if (kicked || inReconcile || closed || c.def.kind === 'Event') return;
    kicked = true;
    setImmediate(() => {
      kicked = false;
      safeReconcile();
    });
  });

  const saved = opts.stateFile ? readSandboxState(opts.stateFile) : undefined;
  if (saved) {
    store.restore(saved, RESOURCES);
    // Pods already running carry on: no second start, no replayed events.
    kubelet.restoring = true;
    safeReconcile();
    kubelet.restoring = false;
  }
  seedCluster(api);
  if (opts.demo) seedDemo(api, demoServices(opts.config));
  if (saved && opts.warm) traffic.backfill(opts.warmSec ?? 600);
  else if (opts.demo && opts.warm) {
    kubelet.backdateNewPods = true;
    safeReconcile();
    kubelet.backdateNewPods = false;
    safeReconcile();
    traffic.backfill(opts.warmSec ?? 600);
  }
  safeReconcile();
  const persisted = opts.stateFile ? persistStore(store, clock, opts.stateFile) : undefined;

  const loop = async () => {
    while (!closed) {
      await clock.sleep(tickMs * clock.speed);
      safeReconcile();
    }
  };
  // The reconcilers' stand-ins read Git, so they run beside the tick loop, once a virtual second.
  const gitApplier = new GitApplier(api, store, opts.gitEnv ?? process.env);
  const argocd = new ArgoCdStandIn(gitApplier, store, clock, opts.logger);
  const flux = new FluxStandIn(gitApplier, store, clock, opts.logger);
  const gitopsLoop = async () => {
    while (!closed) {
      await clock.sleep(1000);
      if (!closed) await argocd.tick();
      if (!closed) await flux.tick();
    }
  };

  const watches = new Set<ServerResponse>();
  const audit: AuditEvent[] = [];
  const sockets = new Set<Duplex>();
  let address = '127.0.0.1:0';
  const tls = await sandboxTls();
  const token = opts.token ?? newSandboxToken();
  const server: Server = createServer(
    { key: tls.key, cert: tls.cert },
    createHandler({
      api,
      store,
      traffic,
      clock,
      logger: opts.logger,
      address: () => address,
      baseUrl: () => `https://${address}`,
      watches,
      token,
      audit,
    }),
  );
  let accepted = 0;
  server.on('connection', (s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  address = `127.0.0.1:${port}`;
  const url = `https://${address}`;
  void loop();
  void gitopsLoop();

  return {
    url,
    port,
    token,
    caPem: tls.caPem,
    clock,
    store,
    api,
    traffic,
    kubeconfigYaml: (context?: string) => kubeconfigYaml(url, tls.caPem, token, context),
    writeKubeconfig(file: string, context?: string) {
      mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      writeFileSync(file, kubeconfigYaml(url, tls.caPem, token, context), { mode: 0o600 });
    },
    reconcile: safeReconcile,
    auditLog: () => audit,
    loopStats: () => ({ ...stats }),
    connectionsAccepted: () => accepted,
    async close() {
      if (closed) return;
      closed = true;
      gitApplier.close();
      persisted?.stop();
      persisted?.flush();
      for (const w of watches) w.end();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
    },
  };
}

export { DEMO_VERSION, DEMO_REPLICAS } from './demo.js';
export { readSandboxState, resumedClockAt } from './persist.js';
export { behaviourOf, faultOfTag, BASELINE } from './behaviour.js';
