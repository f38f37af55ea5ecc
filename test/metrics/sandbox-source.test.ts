// SandboxMetricSource against the real sandbox's /sandbox/v1/metrics, and its failure outcomes.
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile } from '../../src/config.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

let sandbox: Sandbox;
let silent: Server;
let silentUrl: string;
let closedPort: number;
const stable = { namespace: 'production', service: 'checkout', track: 'stable' };

beforeAll(async () => {
  const clock = new ScaledClock(50);
  sandbox = await startSandbox({ demo: true, clock, config: loadConfigFile('data/shipbot.yml'), podStartMs: 1000 });
  await clock.sleep(90_000);
  // A peer that accepts the request and never answers, and a port nothing listens on.
  silent = createServer(() => {});
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
});
afterAll(async () => {
  silent?.closeAllConnections();
  await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
  await sandbox?.close();
});

describe('SandboxMetricSource', () => {
  it('reads a sample of the stable track (the sandbox baseline: ~200 rps, ~0.2% errors, p99 ≈ 120 ms)', async () => {
    const out = await new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch }).sample(
      { ...stable, version: 'v1.2.2' },
      30,
    );
    expect(out.ok).toBe(true);
    if (!out.ok) return;
    expect(out.sample.windowSec).toBe(30);
    expect(out.sample.throughputRps).toBeGreaterThan(150);
    expect(out.sample.requests).toBeGreaterThan(4000);
    expect(out.sample.errorRate).toBeLessThan(0.01);
    expect(out.sample.p99Ms).toBeGreaterThan(80);
    expect(out.sample.p99Ms).toBeLessThan(200);
    expect(out.sample.p50Ms).toBeLessThan(out.sample.p95Ms);
  });
  it('a track or version with no traffic is no-data', async () => {
    const src = new SandboxMetricSource(sandbox.url, { fetch: kubeFromKubeconfig(sandbox.kubeconfigYaml()).fetch });
    expect(await src.sample({ ...stable, track: 'canary' }, 30)).toMatchObject({
      ok: false,
      kind: 'no-data',
      message: 'no requests for checkout canary in production over 30s',
    });
    expect(await src.sample({ ...stable, version: 'v9.9.9' }, 30)).toMatchObject({ ok: false, kind: 'no-data' });
  });
  it('an HTTP error keeps its status', async () => {
    const { fetch } = kubeFromKubeconfig(sandbox.kubeconfigYaml());
    expect(await new SandboxMetricSource(`${sandbox.url}/nowhere`, { fetch }).sample(stable, 30)).toMatchObject({
      ok: false,
      kind: 'http-error',
      status: 404,
    });
  });
  it("without the sandbox's credentials there are no metrics: a TLS failure or a 401, never a sample", async () => {
    expect(await new SandboxMetricSource(sandbox.url).sample(stable, 30)).toMatchObject({ ok: false, kind: 'http-error', status: 0 });
    const wrongToken = kubeFromKubeconfig(sandbox.kubeconfigYaml().replace(`token: ${sandbox.token}`, 'token: nope'));
    expect(await new SandboxMetricSource(sandbox.url, { fetch: wrongToken.fetch }).sample(stable, 30)).toMatchObject({
      ok: false,
      kind: 'http-error',
      status: 401,
    });
  });
  it('an answer that is not a sample is a query-error', async () => {
    // Something else listening where the sandbox was expected (here: a server answering other JSON).
    const other = createServer((_, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"kind":"Status","status":"Success"}'),
    );
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    try {
      const out = await new SandboxMetricSource(`http://127.0.0.1:${(other.address() as AddressInfo).port}`).sample(stable, 30);
      expect(out).toMatchObject({ ok: false, kind: 'query-error', message: expect.stringMatching(/not a metric sample/) });
    } finally {
      await new Promise<void>((r) => other.close(() => r()));
    }
  });
  it('no answer is a timeout; nobody listening is an http-error with status 0', async () => {
    expect(await new SandboxMetricSource(silentUrl, { timeoutMs: 200 }).sample(stable, 30)).toMatchObject({
      ok: false,
      kind: 'timeout',
      message: expect.stringMatching(/within 200 ms/),
    });
    expect(await new SandboxMetricSource(`http://127.0.0.1:${closedPort}`).sample(stable, 30)).toMatchObject({
      ok: false,
      kind: 'http-error',
      status: 0,
      message: expect.stringMatching(/ECONNREFUSED/),
    });
  });
});
