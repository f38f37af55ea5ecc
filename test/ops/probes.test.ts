// /healthz, /readyz and /metrics on PORT, in HTTP mode and Socket Mode, through startShipbot
// against the Slack Web API double and an in-process sandbox; and the metrics moving as runs
// happen (a rollback counts once and observes both histograms).
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startShipbot, type Shipbot } from '../../src/main.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { createLogger } from '../../src/log.js';

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

let bot: Shipbot | undefined;
let double: SlackDouble | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bot?.stop();
  await double?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bot = double = dir = undefined;
});

async function start(mode: 'http' | 'socket'): Promise<number> {
  double = await startSlackDouble();
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-probes-'));
  const port = await freePort();
  bot = await startShipbot({
    sandbox: true,
    print: () => {},
    logger: createLogger('silent'),
    env: {
      SLACK_BOT_TOKEN: double.botToken,
      ...(mode === 'socket' ? { SLACK_APP_TOKEN: double.appToken } : { SLACK_SIGNING_SECRET: double.signingSecret }),
      SLACK_API_URL: double.apiUrl,
      PORT: String(port),
      SHIPBOT_DATA_DIR: dir,
      SHIPBOT_SPEED: '100',
    },
  });
  if (mode === 'http') double.connect(`http://127.0.0.1:${port}/slack/events`);
  return port;
}

for (const mode of ['http', 'socket'] as const) {
  describe(`${mode} mode`, () => {
    it('answers /healthz, /readyz and /metrics on PORT', async () => {
      const port = await start(mode);
      const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
      expect((await get('/healthz')).status).toBe(200);
      const ready = await get('/readyz');
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
      for (let i = 0; i < 200 && !double!.messages('deploys', sent.ts).some((m) => m.botId && m.ts !== sent.ts); i++) await new Promise((r) => setTimeout(r, 25));
      const after = await (await get('/metrics')).text();
      expect(after).toMatch(/shipbot_slack_api_calls_total\{method="chat.postMessage",status="ok"\} [1-9]/);
    });
  });
}
