// A small world for scheduler tests: the real sandbox over HTTP, a real runner on a temp SQLite
// file, and a clock the test can move forward (the scheduler's idea of "now"). Ticks are called
// directly instead of waiting on cron. Posts go to an array: `post` is the scheduler's own
// dependency (main.ts passes a Slack poster), not one of our modules.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledClock, type Clock } from '../../src/clock.js';
import { findService, parseConfig, type ShipbotConfig } from '../../src/config.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import type { Actor, DeployPlan, DeployRequest } from '../../src/domain/types.js';
import { createLogger } from '../../src/log.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { createRunner, type Runner } from '../../src/runner/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createScheduler, type Scheduler, type SchedulerDeps } from '../../src/schedule/index.js';
import { openStore, ScheduleStore, type Store } from '../../src/store/index.js';

export const SHIPPED = parseConfig(readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8'));
export const DEV: Actor = { userId: 'U_DEV', name: 'dev' };
export const IC: Actor = { userId: 'U_IC', name: 'ic' };

/** Real time (scaled) plus an offset the test moves forward: "two hours later" without waiting. */
export class JumpClock implements Clock {
  private offset = 0;
  constructor(private readonly inner: ScaledClock) {}
  get speed() {
    return this.inner.speed;
  }
  now(): number {
    return this.inner.now() + this.offset;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return this.inner.sleep(ms, signal);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface Post {
  channel: string;
  text: string;
  threadTs?: string;
}

export interface World {
  config: ShipbotConfig;
  clock: JumpClock;
  sandbox: Sandbox;
  store: Store;
  schedules: ScheduleStore;
  runner: Runner;
  scheduler: Scheduler;
  posts: Post[];
  dbFile: string;
  /** A new store, runner and scheduler on the same database, as after a restart. */
  restart(): void;
  plan(text: string, over?: Partial<DeployPlan>): { request: DeployRequest; plan: DeployPlan };
  close(): Promise<void>;
}

export async function startWorld(opts: { config?: ShipbotConfig; scheduler?: Partial<SchedulerDeps> } = {}): Promise<World> {
  const config = opts.config ?? {
    ...SHIPPED,
    services: SHIPPED.services.map((s) => ({ ...s, environments: { production: s.environments.production } })),
  };
  const sandboxClock = new ScaledClock(100);
  const clock = new JumpClock(new ScaledClock(100));
  // Warm: the demo pods are Ready from the start, so preflight never races them becoming Ready.
  const sandbox = await startSandbox({ clock: sandboxClock, demo: true, warm: true, config });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-schedule-'));
  const dbFile = path.join(dir, 'shipbot.db');
  const logger = createLogger('silent');
  const posts: Post[] = [];
  const kube = kubeFromKubeconfig(sandbox.kubeconfigYaml());
  const opened: Array<{ store: Store; runner: Runner }> = [];
  const make = () => {
    const store = openStore(dbFile);
    const runner = createRunner({
      store,
      config,
      clock,
      kube,
      metrics: new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch }),
      logger,
      reportsDir: path.join(dir, 'reports'),
      pollMs: 1000,
    });
    opened.push({ store, runner });
    const schedules = new ScheduleStore(store.sql);
    const scheduler = createScheduler({
      store,
      schedules,
      runner,
      config,
      clock,
      logger,
      post: async (channel, text, threadTs) => void posts.push({ channel, text, ...(threadTs ? { threadTs } : {}) }),
      ...opts.scheduler,
    });
    return { store, schedules, runner, scheduler };
  };
  const world: World = {
    config,
    clock,
    sandbox,
    posts,
    dbFile,
    ...make(),
    restart() {
      Object.assign(world, make());
    },
    plan(text, over = {}) {
      const parsed = parseCommand(text, config);
      if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error(`not a deploy request: ${text}`);
      // A risk given here is planned as one asked for (its threshold and steps), then the rest applies.
      const request = over.risk ? { ...parsed.command, risk: over.risk } : parsed.command;
      const plan = {
        ...buildPlan(request, findService(config, request.service!)!, config),
        stageWindowSec: 30,
        monitoringIntervalSec: 5,
        observationSec: 30,
        ...over,
      };
      return { request, plan };
    },
    async close() {
      for (const o of opened) await o.runner.close();
      await sandbox.close();
      for (const o of opened) await o.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return world;
}

export const MIN = 60_000;
