// Local mode on a real cluster (issue 32, finding 9): KUBECONFIG set and no Slack tokens. The
// page acts as the one person named by --as, with the roles the config gives them; there is no
// persona picker to become an incident commander, and the page's API refuses anyone else.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { parseStartArgs } from '../../src/commands/start.js';
import { loadConfigFile } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startShipbot, type Shipbot } from '../../src/main.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { freePort } from '../helpers/net.js';

let bot: Shipbot | undefined;
let sandbox: Sandbox | undefined;
let dir: string | undefined;
afterEach(async () => {
  await bot?.stop();
  await sandbox?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
  bot = sandbox = dir = undefined;
});

async function cluster(): Promise<NodeJS.ProcessEnv> {
  const config = loadConfigFile('data/shipbot.yml');
  sandbox = await startSandbox({ clock: new ScaledClock(60), demo: true, warm: true, config });
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-as-'));
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, sandbox.kubeconfigYaml());
  // Nothing here reads metrics: a Prometheus that is not there is enough to start.
  const prometheus = `http://127.0.0.1:${await freePort()}`;
  return { KUBECONFIG: kubeconfig, PROMETHEUS_URL: prometheus, SHIPBOT_DATA_DIR: dir, PORT: String(await freePort()), SHIPBOT_SPEED: '60' };
}

describe('shipbot start --as', () => {
  it('takes a Slack user id', () => {
    expect(parseStartArgs(['--as', 'U_IC'])).toEqual({ sandbox: false, as: 'U_IC' });
    expect(parseStartArgs(['--as', 'ivan; rm -rf /'])).toMatchObject({ error: expect.stringMatching(/--as takes a Slack user id/) });
  });

  it('is required on a real cluster: the persona picker would make roles mean nothing', async () => {
    const env = await cluster();
    await expect(startShipbot({ env, print: () => {}, logger: createLogger('silent') })).rejects.toThrow(
      /start it with --as <Slack user id>/,
    );
  });

  it('acts as that one person with their roles, says so, and refuses anyone else', async () => {
    const env = await cluster();
    bot = await startShipbot({ env, as: 'U_DEV', print: () => {}, logger: createLogger('silent') });
    const boot = (await (await fetch(`${bot.url}/api/bootstrap`)).json()) as {
      token: string;
      people: Array<{ id: string; role: string }>;
      sandbox: boolean;
    };
    expect(boot.sandbox).toBe(false);
    expect(boot.people).toHaveLength(1);
    expect(boot.people[0]).toMatchObject({
      id: 'U_DEV',
      role: expect.stringMatching(/^you \(--as U_DEV\): may deploy, roll back \/ accept own runs, as shipbot.yml says$/),
    });
    const post = (user: string) =>
      fetch(`${bot!.url}/api/send`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-shipbot-token': boot.token },
        body: JSON.stringify({ user, channel: 'C0DEPLOYS', text: 'status' }),
      });
    const asIc = await post('U_IC');
    expect(asIc.status).toBe(403);
    expect(((await asIc.json()) as { detail: string }).detail).toMatch(/acts only as U_DEV/);
    expect((await post('U_DEV')).status).toBe(200);
  });
});
