// SHIPBOT_PUBLIC_URL: a finished run's thread and broadcast link `<url>/reports/<run>`, served on
// PORT as a page (Markdown rendered, tables as tables) in HTTP mode and Socket Mode alike, with
// no file attached; nothing but a run's own report can be asked for. Through startShipbot, the
// Slack double and an in-process sandbox.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startShipbot, type Shipbot } from '../../src/main.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { createLogger } from '../../src/log.js';
import { freePort } from '../helpers/net.js';
import { textOf, waitFor } from '../slack/harness.js';

let bot: Shipbot | undefined;
let double: SlackDouble | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bot?.stop();
  await double?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bot = double = dir = undefined;
});

for (const mode of ['http', 'socket'] as const) {
  describe(`${mode} mode`, () => {
    it('links the report page in the summary and the broadcast; the page renders it; no file is attached', async () => {
      double = await startSlackDouble();
      dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-report-pages-'));
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
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
          SHIPBOT_SPEED: '200',
          SHIPBOT_PUBLIC_URL: `${base}/`,
        },
      });
      if (mode === 'http') double.connect(`${base}/slack/events`);
      else await double.socketConnected();
      for (let i = 0; i < 400 && (await fetch(`${base}/readyz`).catch(() => undefined))?.status !== 200; i++)
        await new Promise((r) => setTimeout(r, 25));

      const sent = await double.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy search v2.0.1 to staging rolling');
      const reply = await waitFor('the proposal', () => double!.messages('deploys', sent.ts).find((m) => m.botId && m.ts !== sent.ts));
      await double.clickButton('U_DEV', reply.ts, 'req_start');
      const summary = await waitFor(
        'the summary',
        () => double!.messages('deploys', sent.ts).find((m) => /^✅ Deployed/.test(m.text ?? '')),
        90_000,
        () => double!.messages('deploys', sent.ts).map((m) => m.text),
      );
      const link = /<(http:\/\/127\.0\.0\.1:\d+\/reports\/(r-[\w-]+))\|report \2>/.exec(textOf(summary));
      expect(link, textOf(summary)).not.toBeNull();
      expect(link![1]).toBe(`${base}/reports/${link![2]}`);
      const thread = double.messages('deploys', sent.ts);
      expect(thread.flatMap((m) => m.files ?? [])).toEqual([]);
      const broadcast = await waitFor('the broadcast', () =>
        double!.messages('deploy-announcements').find((m) => textOf(m).includes(link![1]!)),
      );
      expect(textOf(broadcast)).not.toMatch(/\.md\b|\/tmp\//);

      const page = await fetch(link![1]!);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      expect(html).toMatch(/<title>Deployment report: search v2\.0\.1 → staging<\/title>/);
      expect(html).toMatch(/<table>[\s\S]*<th>/);
      expect(html).not.toMatch(/^\|/m); // no Markdown table left as pipes
      expect(html).not.toContain(dir!);

      // Only a run's own report: an unknown run, a path, a rolled-back run's missing incident report.
      expect((await fetch(`${base}/reports/r-nothere`)).status).toBe(404);
      expect((await fetch(`${base}/reports/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404);
      expect((await fetch(`${base}/reports/${link![2]}/incident`)).status).toBe(404);
    }, 120_000);
  });
}
