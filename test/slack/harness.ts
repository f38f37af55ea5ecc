// A whole Shipbot behind the Slack double: sandbox cluster (fast clock), store in a temp dir,
// the real runner, and the Slack app in HTTP mode on a free port. Tests talk to it only through
// the double (signed requests in, recorded Web API calls out).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../../src/clock.js';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { loadConfigFile, readEnv, type ShipbotConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { createRunner } from '../../src/runner/index.js';
import type { Runner } from '../../src/runner/runner.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { createSlackApp, type SlackApp, type SlackAppOptions } from '../../src/slack/app.js';
import { startSlackDouble, type DoubleMessage, type SlackDouble, type SlackDoubleOptions } from '../../src/slack/double/index.js';
import { openStore, type Store } from '../../src/store/index.js';

export const shippedConfig: ShipbotConfig = loadConfigFile('data/shipbot.yml');

/** The shipped config with short windows, so a canary runs in a few seconds at SPEED. */
export function fastConfig(patch: (c: ShipbotConfig) => void = () => undefined, base: ShipbotConfig = shippedConfig): ShipbotConfig {
  const c = structuredClone(base);
  c.defaults.stageWindowSec = 30;
  c.defaults.monitoringIntervalSec = 3;
  c.defaults.observationMin = { low: 0.5, medium: 0.5, high: 0.5 };
  // On a busy 2-core machine the sandbox's simulated traffic can lag, which reads as a throughput
  // drop; these tests are about Slack, so only errors and latency decide here.
  c.defaults.breach.throughputDropPct = 95;
  patch(c);
  return c;
}

export const SPEED = 60;

export interface Harness {
  double: SlackDouble;
  slack: SlackApp;
  runner: Runner;
  store: Store;
  sandbox: Sandbox;
  config: ShipbotConfig;
  close(): Promise<void>;
}

export async function startHarness(
  opts: {
    config?: ShipbotConfig;
    double?: SlackDoubleOptions;
    progress?: SlackAppOptions['progress'];
    llm?: SlackAppOptions['llm'];
    speed?: number;
    logger?: SlackAppOptions['logger'];
    /** Connect over Socket Mode (SLACK_APP_TOKEN) instead of HTTP. */
    socketMode?: boolean;
  } = {},
): Promise<Harness> {
  const config = opts.config ?? fastConfig();
  const clock = new ScaledClock(opts.speed ?? SPEED);
  // Warm: the demo pods are Ready from the start, so preflight never races them becoming Ready.
  const sandbox = await startSandbox({ clock, demo: true, warm: true, config, podStartMs: 1000 });
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-slack-'));
  const store = openStore(path.join(dir, 'shipbot.db'));
  const logger = opts.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const runner = createRunner({
    store,
    config,
    clock,
    kube: kubeFromKubeconfig(sandbox.kubeconfigYaml()),
    metrics: new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch }),
    logger,
    reportsDir: path.join(dir, 'reports'),
    pollMs: 500,
  });
  const double = await startSlackDouble(opts.double);
  const connection = opts.socketMode ? { SLACK_APP_TOKEN: double.appToken } : { SLACK_SIGNING_SECRET: double.signingSecret };
  const env = readEnv({ SLACK_BOT_TOKEN: double.botToken, ...connection, SLACK_API_URL: double.apiUrl, PORT: '0', LOG_LEVEL: 'silent' });
  const slack = createSlackApp({ env, config, runner, logger, progress: opts.progress, llm: opts.llm, host: '127.0.0.1' });
  const { port, host } = await slack.start();
  if (!opts.socketMode && host !== '127.0.0.1') throw new Error(`the HTTP receiver listens on ${host}, not on loopback`);
  if (opts.socketMode) await double.socketConnected();
  else double.connect(`http://127.0.0.1:${port}/slack/events`);
  return {
    double,
    slack,
    runner,
    store,
    sandbox,
    config,
    async close() {
      await slack.stop();
      await runner.close();
      await double.close();
      await sandbox.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns something (not a timing assertion: it fails with what was seen). */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
  describe?: () => unknown,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${describe ? `; saw: ${JSON.stringify(describe(), null, 1).slice(0, 3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** All text of a message: its fallback text and every text inside its blocks. */
export function textOf(m: DoubleMessage | undefined): string {
  if (!m) return '';
  const parts = [m.text];
  const walk = (x: unknown) => {
    if (Array.isArray(x)) x.forEach(walk);
    else if (x && typeof x === 'object') {
      const o = x as Record<string, unknown>;
      if (typeof o.text === 'string') parts.push(o.text);
      Object.values(o).forEach((v) => typeof v === 'object' && walk(v));
    }
  };
  walk(m.blocks);
  return parts.join('\n');
}

export function actionIds(m: DoubleMessage | undefined): string[] {
  const ids: string[] = [];
  for (const b of (m?.blocks ?? []) as Array<Record<string, unknown>>) {
    for (const e of (b.elements as Array<Record<string, unknown>> | undefined) ?? [])
      if (typeof e.action_id === 'string') ids.push(e.action_id);
  }
  return ids;
}
