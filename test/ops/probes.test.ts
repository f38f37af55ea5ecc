// /healthz, /readyz and /metrics on PORT, in HTTP mode and Socket Mode, through startShipbot
// against the Slack Web API double and an in-process sandbox; and the metrics moving as runs
// happen (a rollback counts once and observes both histograms).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startShipbot, type Shipbot } from '../../src/main.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/net.js';

let bot: Shipbot | undefined;
let double: SlackDouble | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bot?.stop();
  await double?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bot = double = dir = undefined;
});

/** Shipbot against an in-process sandbox, with `slack` as its Slack environment; returns PORT. */
async function launch(slack: Record<string, string>): Promise<number> {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-probes-'));
  const port = await freePort();
  bot = await startShipbot({
    sandbox: true,
    print: () => {},
    logger: createLogger('silent'),
    env: { ...slack, PORT: String(port), SHIPBOT_DATA_DIR: dir, SHIPBOT_SPEED: '100' },
  });
  return port;
}

async function start(mode: 'http' | 'socket'): Promise<number> {
  double = await startSlackDouble();
  const port = await launch({
    SLACK_BOT_TOKEN: double.botToken,
    ...(mode === 'socket' ? { SLACK_APP_TOKEN: double.appToken } : { SLACK_SIGNING_SECRET: double.signingSecret }),
    SLACK_API_URL: double.apiUrl,
  });
  if (mode === 'http') double.connect(`http://127.0.0.1:${port}/slack/events`);
  // Slack connects in the background: wait until Shipbot is ready.
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (r?.status === 200) break;
    await new Promise((res) => setTimeout(res, 25));
  }
  return port;
}

for (const mode of ['http', 'socket'] as const) {
  describe(`${mode} mode`, () => {
    it('answers /healthz, /readyz and /metrics on PORT', async () => {
      const port = await start(mode);
      // PORT passes from the probes' own server to Bolt's once Slack answers (HTTP mode): a moment refused.
      const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`).catch(() => new Response('refused', { status: 599 }));
      expect((await get('/healthz')).status).toBe(200);
      // Slack connects in the background; ready once it has.
      let ready = await get('/readyz');
      for (let i = 0; i < 100 && ready.status !== 200; i++) {
        await new Promise((r) => setTimeout(r, 50));
        ready = await get('/readyz');
      }
      expect(ready.status, await ready.clone().text()).toBe(200);
      const metrics = await (await get('/metrics')).text();
      for (const name of [
        'shipbot_deploys_total',
        'shipbot_rollbacks_total',
        'shipbot_time_to_detect_seconds',
        'shipbot_time_to_rollback_seconds',
        'shipbot_decisions_total',
        'shipbot_slack_api_calls_total',
        'shipbot_slack_rate_limited_total',
        'shipbot_runs_active',
        'shipbot_run_queue_depth',
        'process_resident_memory_bytes',
      ]) {
        expect(metrics, name).toContain(`# TYPE ${name} `);
      }
      // Web API calls are counted by method and result.
      const sent = await double!.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy checkout v1.2.3 canary');
      for (let i = 0; i < 200 && !double!.messages('deploys', sent.ts).some((m) => m.botId && m.ts !== sent.ts); i++)
        await new Promise((r) => setTimeout(r, 25));
      const after = await (await get('/metrics')).text();
      expect(after).toMatch(/shipbot_slack_api_calls_total\{method="chat.postMessage",status="ok"\} [1-9]/);
      // A 429 is counted as such, by method and in the rate-limited total.
      double!.failNext('chat.postMessage', 1, 1);
      const again = await double!.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy search v1.2.3 rolling');
      for (let i = 0; i < 200 && !double!.messages('deploys', again.ts).some((m) => m.botId && m.ts !== again.ts); i++)
        await new Promise((r) => setTimeout(r, 25));
      const limited = await (await get('/metrics')).text();
      expect(limited).toMatch(/shipbot_slack_api_calls_total\{method="chat.postMessage",status="rate_limited"\} 1/);
      expect(limited).toMatch(/^shipbot_slack_rate_limited_total 1$/m);
    });
  });
}

describe('METRICS_PORT', () => {
  it('serves /metrics alone on its own port; PORT keeps Slack and the probes but not /metrics', async () => {
    double = await startSlackDouble();
    const metricsPort = await freePort();
    const port = await launch({
      SLACK_BOT_TOKEN: double.botToken,
      SLACK_SIGNING_SECRET: double.signingSecret,
      SLACK_API_URL: double.apiUrl,
      METRICS_PORT: String(metricsPort),
    });
    double.connect(`http://127.0.0.1:${port}/slack/events`);
    const get = (p: number, path: string) => fetch(`http://127.0.0.1:${p}${path}`).catch(() => new Response('refused', { status: 599 }));
    let ready = await get(port, '/readyz');
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await get(port, '/readyz');
    }
    expect(ready.status).toBe(200);
    const metrics = await get(metricsPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('# TYPE shipbot_deploys_total ');
    expect((await get(metricsPort, '/healthz')).status).toBe(404);
    expect((await get(port, '/metrics')).status).toBe(404);
    expect((await get(port, '/healthz')).status).toBe(200);
  });
});

describe('a bad day', () => {
  it('a signed payload=null (or JSON null) gets a 400 and the process lives', async () => {
    const port = await start('http');
    const { signedHeaders } = await import('../../src/slack/double/signing.js');
    const post = (body: string, type: string) =>
      fetch(`http://127.0.0.1:${port}/slack/events`, {
        method: 'POST',
        headers: { 'content-type': type, ...signedHeaders(double!.signingSecret, body) },
        body,
      });
    for (const [body, type] of [
      ['payload=null', 'application/x-www-form-urlencoded'],
      ['payload=%5B%5D', 'application/x-www-form-urlencoded'],
      ['payload=nope', 'application/x-www-form-urlencoded'],
      ['null', 'application/json'],
      ['[1]', 'application/json'],
    ] as const) {
      const res = await post(body, type);
      expect(res.status, body).toBe(400);
    }
    // Still alive, and still answering real requests.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    const sent = await double!.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy checkout v1.2.3 canary');
    let replied = false;
    for (let i = 0; i < 200 && !replied; i++) {
      replied = double!.messages('deploys', sent.ts).some((m) => m.botId && m.ts !== sent.ts);
      if (!replied) await new Promise((r) => setTimeout(r, 25));
    }
    expect(replied).toBe(true);
  });

  it('Slack unreachable at start: the process stays up, /readyz is 503 with the reason, then 200; runs go on meanwhile', async () => {
    const slackPort = await freePort();
    const port = await launch({
      SLACK_BOT_TOKEN: 'xoxb-double-token',
      SLACK_SIGNING_SECRET: 'double-signing-secret',
      SLACK_API_URL: `http://127.0.0.1:${slackPort}/api/`,
    });
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`).catch(() => new Response('refused', { status: 599 }));
    expect((await get('/healthz')).status).toBe(200);
    const down = await get('/readyz');
    expect(down.status).toBe(503);
    expect(await down.text()).toMatch(/Slack is not connected yet/);
    // A deploy from the terminal runs while Slack is away.
    const { parseCommand } = await import('../../src/domain/parse.js');
    const { buildPlan } = await import('../../src/domain/plan.js');
    const parsed = parseCommand('deploy search v1.2.3 rolling', bot!.config);
    if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error('not a deploy');
    const plan = {
      ...buildPlan(parsed.command, bot!.config.services.find((x) => x.name === 'search')!, bot!.config),
      stageWindowSec: 30,
      monitoringIntervalSec: 5,
      observationSec: 30,
    };
    const run = await bot!.runner.start({
      request: parsed.command,
      plan,
      requester: { userId: 'U_DEV', name: 'dev' },
      origin: { kind: 'terminal' },
    });
    if (!run.ok) throw new Error(run.message);
    // And one asked for in Slack before the restart: its thread catches up once Slack is back.
    const fromSlack = await bot!.runner.start({
      request: parsed.command,
      plan: { ...plan, service: 'payments' },
      requester: { userId: 'U_DEV', name: 'dev' },
      origin: { kind: 'slack', channel: 'C0DEPLOYS', threadTs: '1700000000.000100' },
    });
    if (!fromSlack.ok) throw new Error(fromSlack.message);
    // Slack stays away for a minute: still alive, still not ready.
    await new Promise((r) => setTimeout(r, 60_000));
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(503);
    // Slack comes back on the port Shipbot was told; the next retry connects.
    double = await startSlackDouble({ port: slackPort });
    let ready = await get('/readyz');
    // The backoff is at most 30 s between tries.
    for (let i = 0; i < 700 && ready.status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ready = await get('/readyz');
    }
    expect(ready.status, await ready.clone().text()).toBe(200);
    expect((await bot!.runner.settled(run.run.id))?.phase.status).toBe('succeeded');
    expect((await bot!.runner.settled(fromSlack.run.id))?.phase.status).toBe('succeeded');
    // Shipbot posts the run's state into its thread once connected (this double never saw the
    // thread, which was made before it started, so it answers thread_not_found; Slack would not).
    const caughtUp = () =>
      double!
        .calls('chat.postMessage')
        .find(
          (c) =>
            c.args.channel === 'C0DEPLOYS' &&
            c.args.thread_ts === '1700000000.000100' &&
            /payments v1\.2\.3 → production.*Succeeded/.test(String(c.args.text)),
        );
    for (let i = 0; i < 200 && !caughtUp(); i++) await new Promise((r) => setTimeout(r, 50));
    expect(caughtUp()).toBeDefined();
  }, 150_000);
});
