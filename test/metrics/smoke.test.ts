// Smoke checks against a local HTTP server: parallel, with latency and a reason for each failure.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderUrl, runSmokeChecks, serviceProxyVars } from '../../src/metrics/smoke.js';
import { judgeSmoke } from '../../src/domain/judge.js';

let server: Server;
let base: string;
const seen: string[] = [];
let inFlight = 0;
let maxInFlight = 0;
let closedPort = 0;
let lostOnce = 0;
let lateTwice = 0;
let cutOnce = 0;
beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    if (req.url?.includes('batch=parallel')) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.on('close', () => inFlight--);
    }
    const url = req.url ?? '/';
    if (url.startsWith('/svc/health')) return void res.end('ok');
    if (url.startsWith('/svc/critical-path')) return void res.writeHead(500).end('checkout failed: ledger unavailable');
    if (url.startsWith('/svc/wrong-body')) return void res.end('degraded');
    if (url.startsWith('/svc/slow')) return void setTimeout(() => res.end('ok'), 1000);
    // Loses its first answer (as a loaded node might), then answers at once.
    if (url.startsWith('/svc/lost-once')) return void (lostOnce++ === 0 ? setTimeout(() => res.end('late'), 1000) : res.end('ok'));
    if (url.startsWith('/svc/created')) return void res.writeHead(201).end('made');
    // Cuts its first connection before answering (a kept-alive socket closed under the client), then answers.
    if (url.startsWith('/svc/cut-once')) return void (cutOnce++ === 0 ? req.socket.destroy() : res.end('ok'));
    // Misses its first two answers, then answers at once.
    if (url.startsWith('/svc/late-twice')) return void (lateTwice++ < 2 ? setTimeout(() => res.end('late'), 1000) : res.end('ok'));
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/svc`;
  // A port nothing listens on: bind one, then close it.
  const tmp = createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
});
afterAll(
  () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
);

const check = (name: string, path: string, extra: Record<string, unknown> = {}) => ({
  name,
  url: `{{baseUrl}}${path}`,
  method: 'GET' as const,
  expectStatus: 200,
  timeoutMs: 300,
  critical: true,
  ...extra,
});

describe('runSmokeChecks', () => {
  it('records pass and each kind of failure with a reason and latency', async () => {
    const results = await runSmokeChecks(
      [
        check('health', '/health', { expectBody: 'ok' }),
        check('critical-path', '/critical-path'),
        check('body', '/wrong-body', { expectBody: 'ok' }),
        check('slow', '/slow'),
        check('post', '/created', { method: 'POST', expectStatus: 201, critical: false }),
      ],
      `${base}/`,
    );
    const by = Object.fromEntries(results.map((r) => [r.name, r]));
    expect(by.health).toMatchObject({ ok: true, status: 200, url: `${base}/health` });
    expect(by['critical-path']).toMatchObject({
      ok: false,
      status: 500,
      reason: 'expected status 200, got 500 ("checkout failed: ledger unavailable")',
    });
    expect(by.body).toMatchObject({ ok: false, status: 200, reason: 'expected the body to contain "ok" (got "degraded")' });
    expect(by.slow).toMatchObject({ ok: false, reason: 'no answer within 300 ms (asked twice)', attempts: 2 });
    expect(by['critical-path']).toMatchObject({ attempts: 1 });
    expect(by.post).toMatchObject({ ok: true, status: 201, critical: false });
    for (const r of results) expect(r.latencyMs).toBeGreaterThan(0);
    expect(seen).toContain('POST /svc/created');
    // Judged: the failing critical checks roll back.
    expect(judgeSmoke(results).verdict).toBe('ROLLBACK');
  });

  it('runs the checks in parallel: all three are in flight at once', async () => {
    const slow = '/slow?batch=parallel';
    // POST: not asked twice, so every request in flight is a first one.
    const post = { method: 'POST' as const };
    const results = await runSmokeChecks([check('a', slow, post), check('b', slow, post), check('c', slow, post)], base);
    expect(results.every((r) => r.reason === 'no answer within 300 ms' && r.attempts === 1)).toBe(true);
    expect(maxInFlight).toBe(3);
  });

  it('asks a read check once more when its first answer is lost; a wrong answer is not asked again', async () => {
    const [lost] = await runSmokeChecks([check('lost', '/lost-once', { expectBody: 'ok' })], base);
    expect(lost).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(seen.filter((s) => s === 'GET /svc/lost-once')).toHaveLength(2);
    const before = seen.filter((s) => s === 'GET /svc/critical-path').length;
    await runSmokeChecks([check('critical-path', '/critical-path')], base);
    expect(seen.filter((s) => s === 'GET /svc/critical-path')).toHaveLength(before + 1);
  });

  it('asks a read check once more when its connection is cut before the answer (ECONNRESET)', async () => {
    const [cut] = await runSmokeChecks([check('cut', '/cut-once', { expectBody: 'ok' })], base);
    expect(cut).toMatchObject({ ok: true, status: 200, attempts: 2 });
    expect(seen.filter((s) => s === 'GET /svc/cut-once')).toHaveLength(2);
  });

  it('an unreachable target and an unknown placeholder are failures, not exceptions', async () => {
    const [down, typo] = await runSmokeChecks(
      [check('down', '/health'), { ...check('typo', '/x'), url: '{{baseUrl}}/{{region}}/x' }],
      `http://127.0.0.1:${closedPort}`,
    );
    expect(down).toMatchObject({ ok: false, reason: expect.stringMatching(/^request failed: ECONNREFUSED/) });
    expect(typo).toMatchObject({ ok: false, reason: expect.stringMatching(/\{\{region\}\}, which is not known/) });
  });

  it('renderUrl fills extra variables, encoded', () => {
    expect(renderUrl('{{baseUrl}}/v/{{version}}', 'http://h/', { version: 'v1 2' })).toBe('http://h/v/v1%202');
  });
});

describe("smoke checks on a real cluster's door", () => {
  it("need the kubeconfig's credentials: a plain fetch of the service proxy fails, the cluster's fetch passes", async () => {
    const { ScaledClock } = await import('../../src/clock.js');
    const { startSandbox } = await import('../../src/sandbox/index.js');
    const { kubeFromKubeconfig } = await import('../../src/cluster/kube.js');
    const sb = await startSandbox({ clock: new ScaledClock(60), demo: true, warm: true });
    try {
      const proxy = `${sb.url}/api/v1/namespaces/production/services/checkout/proxy`;
      const checks = [
        { name: 'health', url: '{{baseUrl}}/health', method: 'GET' as const, expectStatus: 200, timeoutMs: 3000, critical: true },
      ];
      const [plain] = await runSmokeChecks(checks, proxy);
      expect(plain).toMatchObject({ ok: false });
      const [authed] = await runSmokeChecks(checks, proxy, {}, { fetch: kubeFromKubeconfig(sb.kubeconfigYaml()).fetch });
      expect(authed).toMatchObject({ ok: true, status: 200 });
    } finally {
      await sb.close();
    }
  });
  it('may name an in-cluster URL: {{service}} and {{namespace}} of the Service under test', () => {
    const vars = serviceProxyVars('https://10.0.0.1:6443/api/v1/namespaces/production/services/checkout-canary/proxy');
    expect(vars).toEqual({ namespace: 'production', service: 'checkout-canary' });
    expect(renderUrl('http://{{service}}.{{namespace}}.svc.cluster.local/health', 'unused', vars)).toBe(
      'http://checkout-canary.production.svc.cluster.local/health',
    );
    expect(serviceProxyVars('http://checkout.production.svc/health')).toEqual({});
  });

  describe("while Shipbot's own event loop lags", () => {
    // Shorter waits than the shipped ~15 s, the same rule: one more attempt per entry.
    const lagBackoffMs = [50, 100, 200];
    /** Holds this process's event loop for `ms`, as a saturated Shipbot would. */
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    /** A fetch that leaves the event loop busy for 600 ms right after each request goes out (`times` times). */
    const lagging = (times: number): typeof fetch => {
      let n = 0;
      return (input, init) => {
        const p = fetch(input, init);
        if (n++ < times) setTimeout(() => busy(600), 1);
        return p;
      };
    };

    it('timeouts during the lag are asked again with backoff (past the usual second try), and an answer then passes', async () => {
      const [r] = await runSmokeChecks([check('late', '/late-twice')], base, {}, { fetch: lagging(99), lagBackoffMs });
      expect(r).toMatchObject({ ok: true, attempts: 3 });
      expect(r!.unclear).toBeUndefined();
    });

    it('many short blocks count as much as one long one: a saturated process (the 100-deploy bench) is busy too', async () => {
      // 40 ms at a time, back to back, for longer than the attempt waits: no single delay is long.
      const saturated: typeof fetch = (input, init) => {
        const p = fetch(input, init);
        const until = performance.now() + 1000;
        const chunk = () => {
          busy(40);
          if (performance.now() < until) setTimeout(chunk, 2);
        };
        setTimeout(chunk, 1);
        return p;
      };
      const [r] = await runSmokeChecks([check('slow', '/slow')], base, {}, { fetch: saturated, lagBackoffMs });
      expect(r).toMatchObject({ ok: false, unclear: true, attempts: 4 });
      expect(judgeSmoke([r!]).verdict).toBe('INCONCLUSIVE');
    });

    it('lagging every time it asks is unclear (a person decides), never a plain failure', async () => {
      const [r] = await runSmokeChecks([check('slow', '/slow')], base, {}, { fetch: lagging(99), lagBackoffMs });
      expect(r).toMatchObject({ ok: false, unclear: true, attempts: 4 });
      expect(r!.reason).toMatch(
        /^no answer within 300 ms, asked 4 times while Shipbot itself was busy \(its event loop held up \d+ ms while it waited\)/,
      );
      expect(judgeSmoke([r!]).verdict).toBe('INCONCLUSIVE');
    });
  });
});
