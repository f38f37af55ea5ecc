// The HTTP door: nothing unsigned is read, let alone parsed; timestamps are held to ±5 minutes
// both ways; a replayed slash command acts once, also after a restart. Through startShipbot on a
// real port, with requests built as Slack builds them.
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startShipbot, type Shipbot } from '../../src/main.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { signedHeaders } from '../../src/slack/double/signing.js';
import { viaFetch } from '../../src/slack/double/transport.js';
import { REQUEST_ACTIONS } from '../../src/slack/blocks/request.js';
import { freePort } from '../helpers/net.js';

let bot: Shipbot | undefined;
let double: SlackDouble | undefined;
const dirs: string[] = [];
afterEach(async () => {
  await bot?.stop();
  await double?.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  bot = double = undefined;
});

async function launch(dir: string, port: number, logger = createLogger('silent')): Promise<void> {
  double ??= await startSlackDouble();
  bot = await startShipbot({
    sandbox: true,
    print: () => {},
    logger,
    env: {
      SLACK_BOT_TOKEN: double.botToken,
      SLACK_SIGNING_SECRET: double.signingSecret,
      SLACK_API_URL: double.apiUrl,
      PORT: String(port),
      SHIPBOT_DATA_DIR: dir,
      SHIPBOT_SPEED: '100',
    },
  });
  double.connect(`http://127.0.0.1:${port}/slack/events`);
  for (let i = 0; i < 200; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
    if (r?.status === 200) return;
    await new Promise((res) => setTimeout(res, 25));
  }
  throw new Error('Shipbot never became ready');
}

/** POSTs `size` bytes of small JSON objects, streamed in 64 KB chunks (the sender keeps one chunk). */
function streamBody(port: number, size: number, headers: Record<string, string>): Promise<number> {
  const chunk = Buffer.from('{"a":1},'.repeat(8192));
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/slack/events',
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    // The door may answer and close before the whole body is sent: that is the point.
    req.on('error', (err) => (req.writableEnded ? undefined : reject(err)));
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

describe('the Slack door', () => {
  it('refuses ten unsigned 5 MB bodies at once without buffering or parsing them', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-door-'));
    dirs.push(dir);
    const port = await freePort();
    await launch(dir, port);
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    const statuses = await Promise.all(Array.from({ length: 10 }, () => streamBody(port, 5 * 1024 * 1024, {})));
    // A forged signature with a fresh timestamp reads at most the cap, then 413.
    const forged = await Promise.all(
      Array.from({ length: 10 }, () =>
        streamBody(port, 5 * 1024 * 1024, {
          'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
          'x-slack-signature': `v0=${'0'.repeat(64)}`,
        }),
      ),
    );
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    for (const s of [...statuses, ...forged]) expect([401, 413]).toContain(s);
    expect(statuses.every((s) => s === 401)).toBe(true);
    expect((peak - before) / 2 ** 20, 'RSS growth in MB').toBeLessThan(50);
    // Still serving.
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  });

  it('refuses signatures dated in the future, far past, or not a number; a body over 1 MB is 413 even when signed', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-door-'));
    dirs.push(dir);
    const port = await freePort();
    await launch(dir, port);
    const body = JSON.stringify({ type: 'url_verification', challenge: 'c', token: 't' });
    const now = Math.floor(Date.now() / 1000);
    // Just over five minutes ahead, with room for the clock to tick on while the test runs.
    for (const ts of [now + 3600, now + 365 * 86400, now - 3600, now + 305]) {
      const res = await double!.driver.sendSigned(body, 'application/json', {}, ts);
      expect(res.status, `timestamp ${ts - now} s off`).toBe(401);
    }
    for (const ts of ['Infinity', '1e12', '-1', '']) {
      const res = await double!.driver.sendRaw(body, {
        'content-type': 'application/json',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': signedHeaders(double!.signingSecret, body)['x-slack-signature']!,
      });
      expect(res.status, `timestamp '${ts}'`).toBe(401);
    }
    // Within the window it is Slack's: the URL check is answered.
    const ok = await double!.driver.sendSigned(body, 'application/json', {}, now - 120);
    expect(ok.status).toBe(200);
    const big = JSON.stringify({ type: 'event_callback', pad: 'x'.repeat(1024 * 1024) });
    expect((await double!.driver.sendSigned(big, 'application/json')).status).toBe(413);
  });

  it('acts once on a replayed slash command, also after a restart', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-door-'));
    dirs.push(dir);
    const port = await freePort();
    await launch(dir, port);
    const channel = double!.workspace.channel('deploys')!.id;
    const form = new URLSearchParams({
      token: 'legacy-verification-token',
      team_id: double!.workspace.teamId,
      channel_id: channel,
      channel_name: 'deploys',
      user_id: 'U_IC',
      user_name: 'ivan',
      command: '/deploy',
      text: 'status',
      api_app_id: double!.workspace.appId,
      response_url: `${double!.apiUrl}../response/x`,
      trigger_id: '1234.5678.replayed',
    }).toString();
    const ts = Math.floor(Date.now() / 1000);
    const send = () => double!.driver.sendSigned(form, 'application/x-www-form-urlencoded', {}, ts);
    const first = await send();
    expect(first.status).toBe(200);
    expect(JSON.stringify(first.body)).toContain('Nothing is deploying');
    const replay = await send();
    expect(replay.status).toBe(200);
    expect(JSON.stringify(replay.body ?? '')).not.toContain('Nothing is deploying');
    await bot!.stop();
    bot = undefined;
    await launch(dir, port);
    const afterRestart = await send();
    expect(afterRestart.status).toBe(200);
    expect(JSON.stringify(afterRestart.body ?? '')).not.toContain('Nothing is deploying');
    // A fresh command (its own trigger_id) is answered as usual.
    const fresh = await double!.driver.slashCommand('U_IC', '/deploy', 'status');
    expect(JSON.stringify(fresh.body)).toContain('Nothing is deploying');
  });

  it('a press is answered before its payload is read only when the payload opens with its type, and is acted on only if it is what it said', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-door-'));
    dirs.push(dir);
    const logs: string[] = [];
    await launch(dir, await freePort(), createLogger('error', { write: (line: string) => void logs.push(line) }));
    const d = double!;
    // Presses of Configure… whose payload the transport rewrites, then signs again as Slack would.
    const pressRewritten = async (rewrite: (payload: string) => string) => {
      const { ts } = await d.postUserMessage(
        'U_DEV',
        'deploys',
        `<@U0SHIPBOT> deploy checkout v9.${logs.length}.${Date.now() % 1000} canary`,
      );
      let reply: ReturnType<typeof d.messages>[number] | undefined;
      while (!(reply = d.messages('deploys', ts).find((m) => m.botId && m.ts !== ts))) await new Promise((r) => setTimeout(r, 10));
      d.driver.useTransport((url, _headers, body) => {
        const payload = rewrite(new URLSearchParams(body).get('payload')!);
        const form = new URLSearchParams({ payload }).toString();
        return viaFetch(url, { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders(d.signingSecret, form) }, form);
      });
      try {
        return await d.clickButton('U_DEV', reply.ts, REQUEST_ACTIONS.configure);
      } finally {
        d.driver.useTransport(undefined);
      }
    };
    const openViews = () => d.openViews('U_DEV').length;
    const waitForViews = async (n: number) => {
      for (let i = 0; i < 200 && openViews() < n; i++) await new Promise((r) => setTimeout(r, 10));
    };
    // Its type last, not first: read in full, then answered; the modal opens.
    const typeLast = await pressRewritten((p) => {
      const { type, ...rest } = JSON.parse(p) as Record<string, unknown>;
      return JSON.stringify({ ...rest, type });
    });
    expect(typeLast.status).toBe(200);
    await waitForViews(1);
    expect(openViews()).toBe(1);
    // Opens as a press but is, read whole, another type (JSON's last key wins): answered, never acted on.
    const twoTypes = await pressRewritten((p) => `${p.slice(0, -1)},"type":"view_submission"}`);
    expect(twoTypes.status).toBe(200);
    await new Promise((r) => setTimeout(r, 600)); // past the door's longest wait
    expect(openViews()).toBe(1);
    expect(logs.join('')).toContain('a signed block_actions request answered 200 was not one: view_submission');
    // An ordinary press still opens its modal.
    expect((await pressRewritten((p) => p)).status).toBe(200);
    await waitForViews(2);
    expect(openViews()).toBe(2);
  });
});
