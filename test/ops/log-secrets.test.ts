// Tokens never reach the logs: a whole run at trace level, with Slack (HTTP mode, the Web API
// double) and the sandbox behind its token, scanned for every secret Shipbot holds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, scrubValue } from '../../src/log.js';
import { startShipbot } from '../../src/main.js';
import { startSlackDouble } from '../../src/slack/double/index.js';
import { freePort } from '../helpers/net.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, logger: createLogger('trace', stream as never) };
}

describe('secrets in logs', () => {
  it('errors keep their stack; tokens inside any string and secret keys in any case are redacted', () => {
    const { lines, logger } = capture();
    const err = new Error('call failed with xoxb-123-456-abcdef and Bearer eyJhbGciOi.secret');
    logger.error(
      {
        err,
        headers: { Authorization: 'Bearer abc.def', 'X-Api-Key': 'sk-ant-api03-zzz' },
        note: 'key sk-ant-api03-yyy',
        nested: { deeper: ['xapp-1-A-2-b'] },
      },
      'with xoxb-9-9-z in the message',
    );
    const out = lines.join('');
    expect(out).toContain('"stack":"Error: call failed');
    for (const secret of [
      'xoxb-123-456-abcdef',
      'eyJhbGciOi.secret',
      'abc.def',
      'sk-ant-api03-zzz',
      'sk-ant-api03-yyy',
      'xapp-1-A-2-b',
      'xoxb-9-9-z',
    ])
      expect(out).not.toContain(secret);
    expect(scrubValue({ AUTHORIZATION: 'x', token: 't', safe: 'ok' })).toEqual({
      AUTHORIZATION: '[redacted]',
      token: '[redacted]',
      safe: 'ok',
    });
  });

  it('a whole run at trace level leaks none of the bot token, signing secret or cluster token', async () => {
    const double = await startSlackDouble({ botToken: 'xoxb-1111-2222-secretbot', signingSecret: 'sign-secret-3333' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-logs-'));
    const { lines, logger } = capture();
    const port = await freePort();
    const bot = await startShipbot({
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
    try {
      const clusterToken = /token: (\S+)/.exec(readFileSync(path.join(dir, 'sandbox.kubeconfig'), 'utf8'))![1]!;
      const { parseCommand } = await import('../../src/domain/parse.js');
      const { buildPlan } = await import('../../src/domain/plan.js');
      const parsed = parseCommand('deploy checkout v1.2.3-errors canary', bot.config);
      if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error('not a deploy');
      const plan = {
        ...buildPlan(parsed.command, bot.config.services.find((x) => x.name === 'checkout')!, bot.config),
        stageWindowSec: 30,
        monitoringIntervalSec: 5,
        observationSec: 30,
        canarySteps: [25, 100],
      };
      // Wait until Slack is connected, then a request in the channel and a run.
      for (let i = 0; i < 200; i++) {
        const r = await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined);
        if (r?.status === 200) break;
        await new Promise((res) => setTimeout(res, 25));
      }
      double.connect(`http://127.0.0.1:${port}/slack/events`);
      await double.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy checkout v1.2.3 canary');
      const run = await bot.runner.start({
        request: parsed.command,
        plan,
        requester: { userId: 'U_DEV', name: 'dev' },
        origin: { kind: 'terminal' },
      });
      if (!run.ok) throw new Error(run.message);
      expect((await bot.runner.settled(run.run.id))?.phase.status).toBe('rolled-back');
      const out = lines.join('');
      expect(out.length).toBeGreaterThan(1000);
      for (const secret of [double.botToken, double.signingSecret, clusterToken, '1111-2222-secretbot'])
        expect(out, secret).not.toContain(secret);
    } finally {
      await bot.stop();
      await double.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
