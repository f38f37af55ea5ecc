// `npm start` killed with SIGKILL in the middle of a production canary and started again, driven
// through the local page's API as a person would: the sandbox cluster kept its workloads (it is
// saved in SHIPBOT_DATA_DIR), the run resumes in its thread and says so, and ends with the new
// version at 100%. Separate processes; nothing shared but the data directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/net.js';

const root = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const dataDir = mkdtempSync(path.join(tmpdir(), 'shipbot-restart-'));
let child: ChildProcess | undefined;
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

interface Msg {
  ts: string;
  threadTs: string | null;
  text: string;
  bot: boolean;
  blocks: Array<{ type: string; elements?: Array<{ action_id?: string; value?: string; text?: unknown }> }> | null;
}

async function start(port: number): Promise<{ url: string; log: () => string }> {
  let out = '';
  child = spawn(process.execPath, [path.join(root, 'bin/shipbot.js'), 'start'], {
    cwd: root,
    env: {
      ...process.env,
      SHIPBOT_DATA_DIR: dataDir,
      PORT: String(port),
      SHIPBOT_SPEED: '60',
      LOG_LEVEL: 'warn',
      KUBECONFIG: '',
      SLACK_BOT_TOKEN: '',
      PROMETHEUS_URL: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const url = `http://127.0.0.1:${port}`;
  await until(
    'the page to answer',
    60_000,
    async () => (await fetch(`${url}/api/bootstrap`).catch(() => undefined))?.ok || undefined,
    () => out,
  );
  return { url, log: () => out };
}

async function until<T>(what: string, ms: number, fn: () => Promise<T | undefined>, log = () => ''): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A POST as the page sends it: JSON, with the token this start of Shipbot gave the page. */
const post = async (url: string, p: string, body: unknown) => {
  const { token } = (await (await fetch(`${url}/api/bootstrap`)).json()) as { token: string };
  return fetch(`${url}${p}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-shipbot-token': token },
    body: JSON.stringify(body),
  }).then((r) => r.json() as Promise<Record<string, unknown>>);
};
const messages = async (url: string) => ((await (await fetch(`${url}/api/state?user=U_DEV`)).json()) as { messages: Msg[] }).messages;
const overview = async (url: string) =>
  (
    (await (await fetch(`${url}/api/sandbox/overview`)).json()) as {
      services: Array<{ namespace: string; name: string; versions: Array<{ version: string; trafficPct: number; pods: number }> }>;
    }
  ).services;

describe('npm start killed mid-canary and started again', () => {
  it('keeps the cluster, resumes the run in its thread, says so, and ends on the new version', async () => {
    const port = await freePort();
    let s = await start(port);
    const boot = (await (await fetch(`${s.url}/api/bootstrap`)).json()) as { channels: Array<{ id: string; name: string }> };
    const deploys = boot.channels.find((c) => c.name === 'deploys')!.id;
    const sent = await post(s.url, '/api/send', { user: 'U_DEV', channel: deploys, text: 'deploy catalog v2.0.0 canary' });
    const startButton = await until('the Start button', 30_000, async () => {
      for (const m of await messages(s.url)) {
        const b = m.blocks?.flatMap((x) => x.elements ?? []).find((e) => e.action_id === 'req_start');
        if (m.threadTs === sent.ts && b) return { ts: m.ts, value: b.value };
      }
    });
    await post(s.url, '/api/click', { user: 'U_DEV', messageTs: startButton.ts, actionId: 'req_start', value: startButton.value });
    const progress = () =>
      messages(s.url).then((ms) => ms.find((m) => m.threadTs === sent.ts && /^catalog v2\.0\.0 → production \(canary\)/.test(m.text)));
    const threadText = async () =>
      (await messages(s.url))
        .filter((m) => m.threadTs === sent.ts)
        .map((m) => m.text)
        .join('\n');
    let seen = '';
    await until(
      'production canary 25%',
      120_000,
      async () => {
        seen = await threadText();
        return (await progress())?.text.match(/ — canary 25%$/) ? true : undefined;
      },
      () => `${seen}\n${s.log()}`,
    );
    const before = (await overview(s.url)).find((x) => x.namespace === 'production' && x.name === 'catalog')!;
    // Production runs the exact build staging's pods pulled: v2.0.0 pinned by its digest.
    const released = before.versions.map((v) => v.version).find((v) => v !== 'v1.2.2')!;
    expect(released).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(before.versions.map((v) => v.version).sort()).toEqual(['v1.2.2', released].sort());

    child!.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    s = await start(port);
    // The cluster is as it was: the canary still runs beside the old version.
    const after = (await overview(s.url)).find((x) => x.namespace === 'production' && x.name === 'catalog')!;
    expect(after.versions.map((v) => v.version).sort()).toEqual(['v1.2.2', released].sort());

    const done = await until(
      'the run to finish',
      180_000,
      async () => {
        seen = await threadText();
        const p = await progress();
        return p && /Succeeded|Rolled back|Failed|Stopped/i.test(p.text) ? p : undefined;
      },
      () => `${seen}\n${s.log()}`,
    );
    expect(done.text, s.log()).toMatch(/Succeeded/);
    const thread = (await messages(s.url)).filter((m) => m.threadTs === sent.ts).map((m) => m.text);
    expect(
      // A Slack date token (each reader's own zone) of the wall-clock moment, not the demo clock's.
      thread.some((t) => {
        const m = /^↻ Shipbot restarted <!date\^(\d+)\^[^|]+\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>; resuming at "canary 25%"/.exec(t);
        return m && Math.abs(Number(m[1]) * 1000 - Date.now()) < 10 * 60_000;
      }),
      thread.join('\n'),
    ).toBe(true);
    const catalog = (await overview(s.url)).find((x) => x.namespace === 'production' && x.name === 'catalog')!;
    expect(catalog.versions.filter((v) => v.trafficPct > 0).map((v) => [v.version, v.trafficPct])).toEqual([[released, 100]]);

    // What a person sees on the page: the thread with the restart notice in it.
    if (!existsSync(CHROMIUM)) return console.warn(`restart notice screenshot skipped: no Chromium at ${CHROMIUM}`);
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      // At a laptop's size and on a phone: the notice on screen, nothing scrolling sideways.
      for (const [name, viewport] of [
        ['1280x800', { width: 1280, height: 800 }],
        ['390x844', { width: 390, height: 844 }],
      ] as const) {
        const page = await browser.newPage({ viewport });
        await page.goto(`${s.url}/?as=U_DEV`);
        await page.locator('.msg', { hasText: 'deploy catalog v2.0.0 canary' }).locator('.replies').click();
        const notice = page.locator('#thread .msg', { hasText: 'Shipbot restarted today' });
        await notice.first().waitFor({ timeout: 15_000 });
        expect(await notice.first().innerText()).toMatch(
          /Shipbot restarted today \d\d:\d\d( [AP]M)? [A-Z][\w+:-]*; resuming at "canary 25%"/,
        );
        expect(await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)).toBeLessThanOrEqual(0);
        mkdirSync(path.resolve('test-artifacts'), { recursive: true });
        await notice.first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: path.resolve(`test-artifacts/restart-notice-${name}.png`) });
        await page.close();
      }
    } finally {
      await browser.close();
    }
  }, 400_000);
});
