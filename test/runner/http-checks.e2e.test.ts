// The team's own gates over HTTP (services[].checks), against a real HTTP server on loopback:
// a failing pre-deploy check blocks before anything changes, with its answer's first line; a
// failing pre-promotion check stops the release before it takes all the traffic and rolls it back;
// a check that does not answer in time blocks too. Each call carries the release.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { ShipbotConfig } from '../../src/config.js';
import { outcomeOf } from '../../src/domain/run.js';
import { firstLine } from '../../src/runner/http-checks.js';
import { liveImage, servingImages, startWorld, started, type World, withoutStaging } from './world.js';

let w: World | undefined;
let server: Server | undefined;
afterEach(async () => {
  await w?.close();
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  w = server = undefined;
});

/** A checks service: each path answers as `answers` says; every call's JSON body is kept. */
async function checksService(answers: Record<string, { status: number; body: string } | 'hang'>) {
  const calls: Array<{ path: string; body: Record<string, unknown> }> = [];
  server = createServer((req, res) => {
    let text = '';
    req.on('data', (c) => (text += c));
    req.on('end', () => {
      calls.push({ path: req.url ?? '', body: JSON.parse(text) });
      const a = answers[req.url ?? ''];
      if (!a || a === 'hang') return;
      res.writeHead(a.status, { 'content-type': 'text/plain' }).end(a.body);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const url = (p: string) => `http://127.0.0.1:${(server!.address() as AddressInfo).port}${p}`;
  return { calls, url };
}

function withChecks(checks: Partial<ShipbotConfig['services'][number]['checks']>): ShipbotConfig {
  const cfg = structuredClone(withoutStaging());
  const checkout = cfg.services.find((s) => s.name === 'checkout')!;
  checkout.checks = { preDeploy: [], prePromotion: [], ...checks };
  return cfg;
}

const OLD = 'registry.example.com/shop/checkout:v1.2.2';

describe("the team's HTTP checks", () => {
  it('a failing pre-deploy check blocks before anything changes, showing the first line of its answer', async () => {
    const svc = await checksService({
      '/scan': { status: 500, body: '\n2 High vulnerabilities found\nCVE-2026-0001 in libfoo' },
      '/tests': { status: 200, body: 'integration tests 100%' },
    });
    w = await startWorld({
      config: withChecks({
        preDeploy: [
          { name: 'security-scan', url: svc.url('/scan'), timeoutMs: 5000 },
          { name: 'integration-tests', url: svc.url('/tests'), timeoutMs: 5000 },
        ],
      }),
    });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary'));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status).toBe('failed');
    expect(outcomeOf(done)).toContain('pre-deploy check security-scan: HTTP 500: 2 High vulnerabilities found');
    expect(outcomeOf(done)).not.toContain('integration-tests');
    expect(done.steps.find((s) => s.key === 'prepare')?.status).toBe('skipped');
    expect(await liveImage(w, 'checkout')).toBe(OLD);
    expect(svc.calls.map((c) => c.path).sort()).toEqual(['/scan', '/tests']);
    expect(svc.calls[0]!.body).toEqual({
      gate: 'pre-deploy',
      service: 'checkout',
      version: 'v1.2.3',
      digest: null,
      environment: 'production',
      runId: run.id,
    });
  });

  it('a pre-promotion check runs before the release takes all the traffic; failing, it rolls back', async () => {
    const svc = await checksService({ '/confirm': { status: 409, body: 'change freeze in the payments team' } });
    w = await startWorld({ config: withChecks({ prePromotion: [{ name: 'confirm', url: svc.url('/confirm'), timeoutMs: 5000 }] }) });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [50, 100] }));
    const done = (await w.runner.settled(run.id))!;
    const keys = done.steps.map((s) => s.key);
    expect(keys.indexOf('pre-promotion-checks')).toBe(keys.indexOf('stage:canary-100') - 1);
    expect(keys.indexOf('pre-promotion-checks')).toBeGreaterThan(keys.indexOf('stage:canary-50'));
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(outcomeOf(done)).toContain('pre-promotion checks failed — confirm: HTTP 409: change freeze in the payments team');
    expect(done.steps.find((s) => s.key === 'stage:canary-100')?.status).toBe('skipped');
    expect(await servingImages(w, 'checkout')).toEqual([OLD]);
    expect(svc.calls).toHaveLength(1);
    expect(svc.calls[0]!.body).toMatchObject({ gate: 'pre-promotion', digest: expect.stringMatching(/^sha256:[a-f0-9]{64}$/) });
  });

  it('a check that does not answer in time blocks', async () => {
    const svc = await checksService({ '/slow': 'hang' });
    w = await startWorld({ config: withChecks({ preDeploy: [{ name: 'slow', url: svc.url('/slow'), timeoutMs: 300 }] }) });
    const run = started(await w.deploy('deploy checkout v1.2.3 canary'));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status).toBe('failed');
    expect(outcomeOf(done)).toContain('pre-deploy check slow: no answer within 300 ms');
    expect(await liveImage(w, 'checkout')).toBe(OLD);
  });

  it('shows the first line of an answer, short, without secrets', () => {
    expect(firstLine('\n\n  first  \nsecond')).toBe('first');
    expect(firstLine(`${'x'.repeat(300)}`)).toHaveLength(200);
    expect(firstLine('failed: https://user:hunter2@scanner.example/run')).not.toContain('hunter2');
  });
});
