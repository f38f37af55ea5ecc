// Pre-deployment checks, Investigate's diagnostics, bounded waits, and moving a service
// between strategies — all against the sandbox over HTTP.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DriverDeps } from '../../src/cluster/common.js';
import { StageFailedError } from '../../src/cluster/errors.js';
import { createDriver, diagnose, retireIdleColour } from '../../src/cluster/index.js';
import { plainKube } from '../helpers/sandbox-access.js';
import type { PreflightCheck, RolloutDriver, RolloutState } from '../../src/cluster/types.js';
import type { Strategy } from '../../src/domain/types.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { planFor, refFor, sandbox, serving } from './sandbox.js';

let sb: Sandbox;
let deps: DriverDeps;
const ref = refFor('search');

beforeEach(async () => {
  ({ sb, deps } = await sandbox());
});
afterEach(() => sb.close());

function failing(checks: PreflightCheck[]): string[] {
  return checks.filter((c) => !c.ok).map((c) => `${c.severity}:${c.name}`);
}

async function deploy(driver: RolloutDriver, strategy: Strategy, version: string, untilPct = 100): Promise<RolloutState> {
  const plan = planFor('search', version, strategy);
  let state = await driver.prepare(ref, plan);
  for (const s of driver.stages(plan, state)) {
    state = await driver.applyStage(ref, state, s);
    if (s.trafficPct >= untilPct) break;
  }
  return state;
}

describe('preflight', () => {
  it('passes on a healthy workload and names what it checked', async () => {
    const checks = await createDriver('canary', deps).preflight(ref, 'v1.3.0');
    expect(failing(checks)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      'image tag valid',
      'cluster reachable',
      'nodes Ready',
      'workload exists',
      'other writers',
      'workload healthy',
      'previous revision',
    ]);
    expect(checks.find((c) => c.name === 'previous revision')?.detail).toMatch(
      /rollback target registry.example.com\/shop\/search:v1.2.2 \(revision 1\)/,
    );
  });

  it('rejects an invalid tag, a missing workload, and warns when the version already runs', async () => {
    const driver = createDriver('rolling', deps);
    expect(failing(await driver.preflight(ref, 'v1.3.0;rm'))).toEqual(['error:image tag valid']);
    const missing = await driver.preflight({ ...ref, deployment: 'nope' }, 'v1.3.0');
    expect(failing(missing)).toEqual(['error:workload exists']);
    expect(missing.find((c) => c.name === 'workload exists')?.detail).toBe(
      'Deployment nope not found in production: check data/shipbot.yml or create it.',
    );
    expect(failing(await driver.preflight(ref, 'v1.2.2'))).toEqual(['warning:new version']);
  });

  it('blocks on a crash-looping workload', async () => {
    const driver = createDriver('rolling', deps);
    await expect(deploy(driver, 'rolling', 'v1.3.0-crash')).rejects.toBeInstanceOf(StageFailedError);
    const checks = await driver.preflight(ref, 'v1.3.1');
    expect(failing(checks)).toContain('error:workload healthy');
    expect(checks.find((c) => c.name === 'workload healthy')?.detail).toMatch(/search-[a-z0-9]+-[a-z0-9]+ crash-loop/);
  });

  it('reports an unreachable cluster in words and stops there', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const checks = await createDriver('canary', { ...deps, kube: plainKube(`http://127.0.0.1:${port}`) }).preflight(ref, 'v1.3.0');
    expect(failing(checks)).toEqual(['error:cluster reachable', 'error:nodes Ready']);
    expect(checks.find((c) => c.name === 'cluster reachable')?.detail).toMatch(
      /^Cannot reach the Kubernetes API at http:\/\/127.0.0.1:\d+ \(ECONNREFUSED\)/,
    );
  });
});

describe('waits', () => {
  it('end on timeout with a readable reason instead of hanging', async () => {
    const driver = createDriver('rolling', { ...deps, rolloutTimeoutSec: 1 });
    const err = await deploy(driver, 'rolling', 'v1.3.0').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StageFailedError);
    expect((err as StageFailedError).reason).toBe('timeout');
    expect((err as StageFailedError).message).toMatch(
      /^search in production was not ready after 1s: Waiting for deployment "search" rollout to finish/,
    );
  });

  it('stop when the run is cancelled', async () => {
    const driver = createDriver('canary', deps);
    const plan = planFor('search', 'v1.3.0', 'canary');
    const state = await driver.prepare(ref, plan);
    const abort = new AbortController();
    abort.abort();
    await expect(driver.applyStage(ref, state, driver.stages(plan, state)[0]!, abort.signal)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('diagnose', () => {
  it('collects pod states with restarts and versions, and the recent Events', async () => {
    const driver = createDriver('canary', deps);
    const plan = planFor('search', 'v1.3.0-crash', 'canary');
    const state = await driver.prepare(ref, plan);
    await expect(driver.applyStage(ref, state, driver.stages(plan, state)[0]!)).rejects.toBeInstanceOf(StageFailedError);
    const d = await diagnose(deps, ref, state);
    const canary = d.pods.filter((p) => p.version === 'v1.3.0-crash');
    expect(canary).toHaveLength(1);
    expect(canary[0]).toMatchObject({ ready: false, reason: 'CrashLoopBackOff' });
    expect(canary[0]!.restarts).toBeGreaterThan(0);
    expect(d.pods.filter((p) => p.version === 'v1.2.2' && p.ready)).toHaveLength(20);
    expect(d.events.some((e) => e.reason === 'BackOff' && e.object.startsWith('Pod/search-canary-'))).toBe(true);
    expect(d.events.length).toBeLessThanOrEqual(20);
  });
});

describe('moving a service between strategies', () => {
  it('blue-green, then canary, then rolling: each prepares what it needs without dropping traffic', async () => {
    const bg = createDriver('blue-green', deps);
    await bg.promote(ref, await deploy(bg, 'blue-green', 'v1.3.0'));
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.3.0': 100 }, selector: { app: 'search', track: 'green' } });
    expect(await retireIdleColour(deps, ref)).toEqual(['search']); // the stable Deployment is now at zero

    const canary = createDriver('canary', deps);
    const plan = planFor('search', 'v1.4.0', 'canary');
    let state = await canary.prepare(ref, plan);
    // The stable Deployment took over the live colour's version before the selector moved.
    expect(state.previousImage).toBe('registry.example.com/shop/search:v1.3.0');
    expect(await serving(sb, ref)).toEqual({ byVersion: { 'v1.3.0': 100 }, selector: { app: 'search' } });
    for (const s of canary.stages(plan, state)) state = await canary.applyStage(ref, state, s);
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.4.0': 100 });

    const rolling = createDriver('rolling', deps);
    const rolled = await deploy(rolling, 'rolling', 'v1.5.0');
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.5.0': 100 });
    await rolling.rollback(ref, rolled);
    expect(await rolling.verifyRollback(ref, rolled)).toMatchObject({ ok: true, oldTrafficPct: 100 });
    expect((await serving(sb, ref)).byVersion).toEqual({ 'v1.4.0': 100 });
  });
});

describe('cluster access', () => {
  it('reads a kubeconfig file from KUBECONFIG (the one `shipbot sandbox` writes)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-kube-'));
    try {
      const file = path.join(dir, 'kubeconfig');
      sb.writeKubeconfig(file);
      const { kubeFromEnv } = await import('../../src/cluster/kube.js');
      const kube = kubeFromEnv({ KUBECONFIG: file });
      expect(kube.server).toBe(sb.url);
      const checks = await createDriver('rolling', { ...deps, kube }).preflight(ref, 'v1.3.0');
      expect(failing(checks)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
