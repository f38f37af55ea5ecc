// Entry: read config, wire the parts, start. With Slack tokens Shipbot connects to Slack; with
// none it runs the local mode: the sandbox cluster, its metrics, Shipbot itself (the same Bolt
// app, runner and executor as in production) and a Slack-like workspace page on PORT. In local
// mode the page talks to the Slack double, which signs requests into Bolt and answers Bolt's Web
// API calls, so the demo runs the production code path.
import { NO_ROLES } from './domain/permissions.js';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { ScaledClock, type Clock } from './clock.js';
import { ConfigError, contextsOf, loadAll, type EnvConfig, type ShipbotConfig } from './config.js';
import {
  guardWrites,
  kubeconfigClusters,
  kubeFromEnv,
  kubeFromKubeconfig,
  singleCluster,
  type Clusters,
  type Leadership,
} from './cluster/index.js';
import { createLlm } from './llm/index.js';
import { startLocalWorkspace, type LocalWorkspace } from './local/server.js';
import { actingAs, localPeople } from './local/people.js';
import { persistWorkspace } from './local/persist.js';
import { createLogger, type Logger } from './log.js';
import { alertSourceFor, createMetricSource, prometheusAccess } from './metrics/index.js';
import { clusterReadiness, probeRoutes, retryWithBackoff, startProbeServer } from './ops/probes.js';
import { createTelemetry } from './ops/telemetry.js';
import { leaseIdentity, Replica } from './ops/replica.js';
import { viaLeader } from './slack/via-leader.js';
import type { MetricSource } from './metrics/types.js';
import { createRunner, type Runner } from './runner/index.js';
import { reportRoutes } from './reports/page.js';
import { readSandboxState, resumedClockAt, sandboxTraffic, startSandbox, type Sandbox } from './sandbox/index.js';
import { schedulingFor, startScheduler } from './schedule/index.js';
import { createSlackApp, type SlackApp } from './slack/app.js';
import { startSlackDouble, type SlackDouble } from './slack/double/index.js';
import { openRunStore, ScheduleStore, type Store } from './store/index.js';

/** Local mode's clock: a canary (4 stages of 5 min, 30 min observation) takes about a minute. */
export const DEMO_SPEED = 60;
export const FIRST_THING_TO_TYPE = 'deploy checkout v1.2.4-errors canary';

export interface StartOptions {
  /** Environment to read (default process.env); tests pass their own. */
  env?: NodeJS.ProcessEnv;
  /** Run against an in-process sandbox cluster even with Slack tokens or a KUBECONFIG. */
  sandbox?: boolean;
  /** Overrides PORT (the workspace page in local mode, /slack/events in HTTP mode). */
  port?: number;
  logger?: Logger;
  /** Where the start-up banner goes (default console.log); tests silence it. */
  print?: (text: string) => void;
  /** Local mode on a real cluster: the one person (a Slack user id) the page acts as, with their roles. */
  as?: string;
}

export interface Shipbot {
  mode: 'local' | 'slack';
  /** The workspace page (local mode). */
  url?: string;
  /** The sandbox cluster's API URL, when one runs in-process. */
  sandboxUrl?: string;
  clock: Clock;
  runner: Runner;
  /** The Slack double behind the page (local mode). */
  double?: SlackDouble;
  config: ShipbotConfig;
  dataDir: string;
  /** Resolves with the reason when Shipbot can no longer work safely (its database stays unwritable). */
  fatal: Promise<string>;
  stop(): Promise<void>;
}

export async function startShipbot(opts: StartOptions = {}): Promise<Shipbot> {
  const rawEnv = opts.env ?? process.env;
  const { env, config, dataDir } = loadAll(rawEnv);
  const slackTokens = !!env.SLACK_BOT_TOKEN;
  if (slackTokens && !env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
    throw new ConfigError('environment', [
      'SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN (Socket Mode) nor SLACK_SIGNING_SECRET (HTTP mode): set one, or unset SLACK_BOT_TOKEN for local mode',
    ]);
  }
  const local = !slackTokens;
  const useSandbox = opts.sandbox === true || (!slackTokens && !env.KUBECONFIG);
  // On a real cluster a persona picker would make roles meaningless: one named person acts.
  if (local && !useSandbox && !opts.as)
    throw new Error(
      'Local mode on the cluster in KUBECONFIG acts as one person, with the roles shipbot.yml gives them: start it with --as <Slack user id>, e.g. `npx shipbot start --as U123ABC` (or --sandbox for the demo cluster).',
    );
  // A demo should not drown its own banner in JSON logs; LOG_LEVEL still wins when set.
  const logger = opts.logger ?? createLogger(rawEnv.LOG_LEVEL ? env.LOG_LEVEL : local ? 'warn' : env.LOG_LEVEL);
  const print = opts.print ?? ((t: string) => console.log(t));

  const stops: Array<{ name: string; stop: () => Promise<void> | void }> = [];
  const stopAll = async () => {
    for (const s of stops.splice(0).reverse()) {
      try {
        await s.stop();
      } catch (err) {
        logger.warn({ err }, `stopping ${s.name} failed`);
      }
    }
  };

  try {
    mkdirSync(dataDir, { recursive: true });
    // Runs, locks, schedules and the audit trail: Postgres when SHIPBOT_DATABASE_URL is set, else a file.
    const store: Store = await openRunStore(env.SHIPBOT_DATABASE_URL, path.join(dataDir, 'shipbot.db'));
    const schedules = new ScheduleStore(store.sql);
    stops.push({ name: 'store', stop: () => store.close() });

    const speed = env.SHIPBOT_SPEED ?? (useSandbox ? DEMO_SPEED : 1);
    // Local mode keeps its cluster in the data dir, as a real cluster outlives Shipbot; the
    // clock continues after the saved cluster and the last thing the database recorded.
    const stateFile = path.join(dataDir, 'sandbox-cluster.json');
    const saved = useSandbox ? readSandboxState(stateFile) : undefined;
    const clock = new ScaledClock(speed, Math.max(resumedClockAt(saved) ?? 0, ((await store.latestMoment()) ?? 0) + 1));

    // Replicas (a shared database): only the one holding the Lease drives runs and writes to clusters.
    let replica: Replica | undefined;
    const lease = env.SHIPBOT_DATABASE_URL ? leaseIdentity(rawEnv) : undefined;
    const me: Leadership | undefined = lease && { leading: () => replica?.leading ?? false, identity: lease.identity };
    let sandbox: Sandbox | undefined;
    let clusters: Clusters;
    if (useSandbox) {
      // warm: the demo starts Ready with ten minutes of traffic history, so a baseline exists at once.
      sandbox = await startSandbox({ clock, demo: true, warm: true, config, logger, stateFile, ...sandboxTraffic(env) });
      stops.push({ name: 'sandbox', stop: () => sandbox!.close() });
      // So `kubectl --kubeconfig data/sandbox.kubeconfig get pods -n production` shows the demo.
      sandbox.writeKubeconfig(path.join(dataDir, 'sandbox.kubeconfig'));
      // In-process, yet through the same door as kubectl: HTTPS with its CA and a bearer token.
      const kube = kubeFromKubeconfig(sandbox.kubeconfigYaml());
      clusters = singleCluster(me ? guardWrites(kube, me) : kube);
    } else {
      clusters = kubeconfigClusters(env, contextsOf(config), me);
    }

    const metrics = metricSource(env, config, clock, sandbox ? { url: sandbox.url, fetch: clusters.kube().fetch } : undefined);
    const llm = createLlm(env, { log: logger });
    const alerts = alertSourceFor(env);
    const runner = createRunner({
      git: { creds: env },
      store,
      config,
      clock,
      clusters,
      metrics,
      logger,
      reportsDir: path.join(dataDir, 'reports'),
      summarise: (kind, facts) => llm.reportProse(kind, facts),
      ...(alerts ? { alerts } : {}),
      ...(me ? { acting: me.leading } : {}),
    });
    stops.push({ name: 'runner', stop: () => runner.shutdown() });
    let endWith!: (reason: string) => void;
    const fatal = new Promise<string>((resolve) => {
      endWith = resolve;
      stops.push({ name: 'fatal watch', stop: runner.subscribe((ev) => ev.type === 'store-failed' && resolve(ev.message)) });
    });
    const bootAt = clock.now();
    let onLead = () => {};
    if (me && lease) {
      // The Lease lives where Shipbot runs (its pod's namespace; the sandbox in local mode).
      const leaseKube = sandbox ? kubeFromKubeconfig(sandbox.kubeconfigYaml()) : kubeFromEnv(env);
      const lead = new Replica({
        store,
        runner,
        log: logger,
        lease: { api: leaseKube.coordination, name: 'shipbot-leader', ...lease },
        onLead: () => onLead(),
        onDemoted: (term) =>
          endWith(`this replica no longer leads (term ${term} ended): it has stopped acting, and exits to start again as a standby`),
      });
      replica = lead;
      stops.push({ name: 'leadership', stop: () => lead.stop() });
    } else {
      const resumed = await runner.resumeInFlight();
      for (const r of resumed) logger.info({ runId: r.runId, action: r.action }, `resumed run after restart: ${r.note}`);
    }

    let double: SlackDouble | undefined;
    let workspace: LocalWorkspace | undefined;
    let slackEnv: EnvConfig = env;
    if (local) {
      // A fresh token and secret per start: only this process can call the double or sign into Bolt.
      double = await startSlackDouble({
        botToken: `xoxb-local-${randomBytes(12).toString('hex')}`,
        signingSecret: randomBytes(16).toString('hex'),
        echoBotMessages: true,
      });
      stops.push({ name: 'slack double', stop: () => double!.close() });
      const saved = persistWorkspace(double.workspace, path.join(dataDir, 'local-workspace.json'), logger);
      stops.push({ name: 'workspace file', stop: () => saved.flush() });
      // The page binds PORT before the Bolt app starts, so a busy port fails fast and cleanly.
      workspace = await startLocalWorkspace({
        double,
        people: opts.as ? actingAs(config, asUser(double, opts.as)) : localPeople(config, double.workspace.users.values()),
        stakeholderChannel: config.channels.stakeholder,
        ...(sandbox ? { sandbox: { url: sandbox.url, fetch: clusters.kube().fetch } } : {}),
        speed,
        port: opts.port ?? env.PORT,
        logger,
      });
      const page = workspace;
      stops.push({ name: 'workspace page', stop: () => page.close() });
      slackEnv = {
        ...env,
        SLACK_BOT_TOKEN: double.botToken,
        SLACK_SIGNING_SECRET: double.signingSecret,
        SLACK_APP_TOKEN: undefined,
        SLACK_API_URL: double.apiUrl,
        // Bolt's receiver gets a free port; PORT is the page's.
        PORT: 0,
      };
    } else if (opts.port !== undefined) {
      slackEnv = { ...env, PORT: opts.port };
    }

    // Shipbot's own metrics and probes: /healthz, /readyz, /metrics on PORT in either Slack mode.
    const telemetry = createTelemetry({
      record: (id) => runner.record(id),
      ...(replica ? { leadership: () => ({ leading: replica!.leading, term: replica!.term }) } : {}),
    });
    stops.push({ name: 'telemetry', stop: runner.subscribe((ev) => telemetry.onRunEvent(ev)) });
    let slackConnected = false;
    let slackProblem: string | undefined;
    let stopping = false;
    const clustersReady = clusterReadiness(() => clusters.known());
    const allRoutes = [
      ...probeRoutes({
        registry: telemetry.registry,
        notReady: async () => {
          const reasons: string[] = [];
          try {
            await store.listRuns({ limit: 1 });
          } catch (err) {
            reasons.push(`store: ${(err as Error).message}`);
          }
          if (!slackConnected) reasons.push(`Slack is not connected yet${slackProblem ? `: ${slackProblem}` : ''}`);
          return [...reasons, ...(await clustersReady())];
        },
      }),
      // SHIPBOT_PUBLIC_URL's report pages: <url>/reports/<run>.
      ...reportRoutes((id) => runner.record(id)),
    ];
    // METRICS_PORT: /metrics alone on its own port; PORT keeps Slack and the probes.
    const ownMetricsPort = env.METRICS_PORT !== undefined && !local;
    const routes = ownMetricsPort ? allRoutes.filter((r) => r.path !== '/metrics') : allRoutes;
    if (ownMetricsPort) {
      const metrics = await startProbeServer(
        allRoutes.filter((r) => r.path === '/metrics'),
        env.METRICS_PORT!,
      );
      stops.push({ name: 'metrics', stop: () => metrics.close() });
    }
    const socketMode = !local && !!slackEnv.SLACK_APP_TOKEN;
    // Until Slack answers, the probes have PORT to themselves (in Socket Mode for good).
    let probes = local ? undefined : await startProbeServer(routes, slackEnv.PORT);
    stops.push({ name: 'probes', stop: () => probes?.close() });

    const slack: SlackApp = createSlackApp({
      env: slackEnv,
      config,
      runner: replica ? viaLeader(runner, replica) : runner,
      logger,
      llm,
      scheduling: schedulingFor({ store, schedules, clock, config }),
      // Local mode: only the Slack double in this process sends events.
      ...(local ? { host: '127.0.0.1' } : {}),
      ...(socketMode ? {} : { routes }),
      onApiCall: (method, status) => telemetry.slackCall(method, status),
      restartsSince: bootAt,
      seen: store,
      clockSpeed: clock.speed,
    });
    stops.push({ name: 'slack app', stop: () => slack.stop() });
    const connect = async () => {
      const s = await slack.start();
      slackConnected = true;
      slackProblem = undefined;
      return s;
    };
    let started: Awaited<ReturnType<SlackApp['start']>> = { mode: socketMode ? 'socket' : 'http', port: slackEnv.PORT };
    if (local) started = await connect();
    else {
      // A Slack that cannot be reached at start is a bad day, not a reason to exit: runs go on,
      // /readyz says why it is not ready, and auth.test is retried with backoff.
      const untilConnected = retryWithBackoff(
        async () => {
          if (!socketMode) {
            // HTTP mode: Bolt's server takes PORT over, the probes among its routes.
            await slack.init();
            await probes?.close();
            probes = undefined;
          }
          return connect();
        },
        {
          clock: { sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
          onFailure: (err, waitMs) => {
            slackProblem = (err as Error).message;
            logger.warn({ err, retryInMs: waitMs }, 'Slack cannot be reached yet; retrying');
          },
          stopped: () => stopping,
        },
      );
      stops.push({ name: 'slack connect', stop: () => void (stopping = true) });
      void untilConnected.then((s) => s && logger.info({ mode: s.mode, port: s.port }, 'connected to Slack'));
    }

    // Scheduled deploys, blue-green retirement, reminders and the digest post through the same app;
    // with replicas, the leader's alone.
    const tickSchedules = () =>
      startScheduler({
        store,
        schedules,
        runner,
        config,
        clock,
        logger,
        post: async (channel, text, threadTs) => {
          await slack.app.client.chat.postMessage({ channel, text, ...(threadTs ? { thread_ts: threadTs } : {}) });
        },
      });
    if (replica) {
      let ticking = false;
      onLead = () => {
        if (ticking) return;
        ticking = true;
        const scheduler = tickSchedules();
        stops.push({ name: 'scheduler', stop: () => scheduler.stop() });
      };
      replica.start();
    } else {
      const scheduler = tickSchedules();
      stops.push({ name: 'scheduler', stop: () => scheduler.stop() });
    }

    if (local && double) double.connect(`http://127.0.0.1:${started.port}/slack/events`);

    if (!config.roles) logger.warn(NO_ROLES);
    print(
      banner({
        local,
        url: workspace?.url,
        started,
        sandbox,
        speed,
        dataDir,
        prometheus: env.PROMETHEUS_URL,
        llm: llm.enabled,
        rolesMissing: !config.roles,
      }),
    );
    return {
      mode: local ? 'local' : 'slack',
      url: workspace?.url,
      sandboxUrl: sandbox?.url,
      clock,
      runner,
      double,
      config,
      dataDir,
      fatal,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** Prometheus when PROMETHEUS_URL is set (each service with its own queries), else the sandbox's direct metrics. */
function metricSource(
  env: EnvConfig,
  config: ShipbotConfig,
  clock: Clock,
  sandbox: { url: string; fetch: typeof fetch } | undefined,
): MetricSource {
  if (!env.PROMETHEUS_URL && !sandbox) {
    throw new ConfigError('environment', [
      'no metric source: set PROMETHEUS_URL (the cluster comes from KUBECONFIG), or run with --sandbox',
    ]);
  }
  return createMetricSource({
    ...(env.PROMETHEUS_URL ? { prometheusUrl: env.PROMETHEUS_URL, prometheusAccess: prometheusAccess(env) } : {}),
    ...(sandbox ? { sandbox } : {}),
    config,
    clock,
  });
}

function banner(o: {
  local: boolean;
  url?: string;
  started: { mode: 'socket' | 'http'; port?: number };
  sandbox?: Sandbox;
  speed: number;
  dataDir: string;
  prometheus?: string;
  llm: boolean;
  rolesMissing: boolean;
}): string {
  const relative = path.relative(process.cwd(), o.dataDir);
  const rel = relative.startsWith('..') || path.isAbsolute(relative) ? o.dataDir : relative || '.';
  const lines = [''];
  if (o.local) {
    lines.push('  🚢 Shipbot is running in local mode (no Slack tokens found).', '');
    lines.push(`  Open          ${o.url}`);
  } else {
    lines.push('  🚢 Shipbot is connected to Slack.', '');
    lines.push(
      o.started.mode === 'socket'
        ? '  Slack         Socket Mode'
        : `  Slack         HTTP mode: POST /slack/events on port ${o.started.port}`,
    );
  }
  lines.push(
    `  Cluster       ${o.sandbox ? `sandbox at ${o.sandbox.url} (kubeconfig: ${path.join(rel, 'sandbox.kubeconfig')})` : 'from KUBECONFIG / in-cluster config'}`,
  );
  lines.push(`  Metrics       ${o.prometheus ? `Prometheus at ${o.prometheus}` : "the sandbox's own"}`);
  if (o.speed !== 1) lines.push(`  Clock         ${o.speed}× real time (SHIPBOT_SPEED): a canary takes a minute or two`);
  lines.push(`  Claude        ${o.llm ? 'on' : 'off (set ANTHROPIC_API_KEY to turn it on; rules work without it)'}`);
  lines.push(`  Data          ${rel}/ (runs in shipbot.db, reports in reports/)`);
  if (o.rolesMissing) lines.push(`  Roles         none configured: staging deploys only. ${NO_ROLES.split(': ')[1]}`);
  lines.push('');
  if (o.local) lines.push('  Type this in #deploys:', '', `      ${FIRST_THING_TO_TYPE}`, '');
  else lines.push(`  In a channel with Shipbot, type:  ${FIRST_THING_TO_TYPE}`, '');
  lines.push('  Ctrl-C stops Shipbot.', '');
  return lines.join('\n');
}

/** The workspace user `--as` names, added to the local workspace when it is not one of its people. */
function asUser(double: SlackDouble, id: string) {
  const known = double.workspace.users.get(id);
  if (known) return known;
  const user = { id, name: id };
  double.workspace.users.set(id, user);
  for (const c of double.workspace.channels.values()) if (!c.members.includes(id)) c.members.push(id);
  return user;
}
