// `npx shipbot sandbox [--port N]` as a person runs it: prints the URL, writes the kubeconfig
// under SHIPBOT_DATA_DIR, serves the demo workload, stops cleanly on Ctrl-C.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent, fetch as undiciFetch } from 'undici';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { waitFor } from './helpers.js';

const dataDir = mkdtempSync(path.join(tmpdir(), 'shipbot-sandbox-cli-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

function runCli(args: string[]) {
  const child = spawn(process.execPath, ['bin/shipbot.js', 'sandbox', ...args], {
    env: { ...process.env, SHIPBOT_DATA_DIR: dataDir, SHIPBOT_SPEED: '60', LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  return { child, out: () => out, err: () => err, exited };
}

describe('shipbot sandbox', () => {
  it('prints the API URL, writes data/sandbox.kubeconfig and serves the demo until SIGINT', async () => {
    const cli = runCli(['--port', '0']);
    await waitFor('the start banner', () => cli.out().includes('Press Ctrl-C'), 30_000);
    const url = /Sandbox Kubernetes API: (https:\/\/127\.0\.0\.1:\d+)/.exec(cli.out())?.[1];
    expect(url, cli.out()).toBeDefined();
    expect(cli.out()).toContain('kubectl --kubeconfig');
    const kubeconfig = path.join(dataDir, 'sandbox.kubeconfig');
    expect(existsSync(kubeconfig)).toBe(true);
    expect(readFileSync(kubeconfig, 'utf8')).toContain(`server: ${url}`);
    const kube = kubeFromKubeconfig(readFileSync(kubeconfig, 'utf8'));
    // The door: no CA, no trust; the CA but no token, 401.
    await expect(fetch(`${url}/version`)).rejects.toThrow();
    const ca = /certificate-authority-data: (\S+)/.exec(readFileSync(kubeconfig, 'utf8'))![1]!;
    const anonymous = await undiciFetch(`${url}/apis/apps/v1/deployments`, {
      dispatcher: new Agent({ connect: { ca: Buffer.from(ca, 'base64').toString() } }),
    });
    expect(anonymous.status).toBe(401);
    const list = await waitFor('demo deployments', async () => {
      const body = (await (await kube.fetch(`${url}/apis/apps/v1/deployments`)).json()) as {
        items: Array<{ metadata: { namespace: string; name: string } }>;
      };
      return body.items.length >= 6 ? body : undefined;
    });
    expect(list.items.map((d) => `${d.metadata.namespace}/${d.metadata.name}`).sort()).toContain('production/checkout');
    cli.child.kill('SIGINT');
    expect(await cli.exited).toBe(0);
  });

  it("--context names the kubeconfig context, and two sandboxes' kubeconfigs merge without shadowing each other", async () => {
    const dirs = [mkdtempSync(path.join(tmpdir(), 'shipbot-sbx-a-')), mkdtempSync(path.join(tmpdir(), 'shipbot-sbx-b-'))];
    const clis = ['staging-cluster', 'prod-cluster'].map((ctx, i) => {
      const child = spawn(process.execPath, ['bin/shipbot.js', 'sandbox', '--port', '0', '--context', ctx], {
        env: { ...process.env, SHIPBOT_DATA_DIR: dirs[i], SHIPBOT_SPEED: '60', LOG_LEVEL: 'silent' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      return { child, out: () => out, exited: new Promise<number>((r) => child.on('exit', (c) => r(c ?? -1))) };
    });
    try {
      for (const c of clis) await waitFor('the start banner', () => c.out().includes('Press Ctrl-C'), 30_000);
      const urls = clis.map((c) => /Sandbox Kubernetes API: (https:\/\/127\.0\.0\.1:\d+)/.exec(c.out())![1]);
      const merged = dirs.map((d) => path.join(d, 'sandbox.kubeconfig')).join(path.delimiter);
      const { kubeFromEnv } = await import('../../src/cluster/kube.js');
      expect(kubeFromEnv({ KUBECONFIG: merged }, 'staging-cluster').server).toBe(urls[0]);
      expect(kubeFromEnv({ KUBECONFIG: merged }, 'prod-cluster').server).toBe(urls[1]);
      const res = await kubeFromEnv({ KUBECONFIG: merged }, 'prod-cluster').fetch(`${urls[1]}/version`);
      expect(res.status).toBe(200);
    } finally {
      for (const c of clis) c.child.kill('SIGINT');
      for (const c of clis) await c.exited;
      for (const d of dirs) rmSync(d, { recursive: true, force: true });
    }
  });

  it('refuses a bad --port with a readable reason', async () => {
    const cli = runCli(['--port', 'abc']);
    expect(await cli.exited).toBe(1);
    expect(cli.err()).toContain('--port needs a number from 0 to 65535');
  });
});
