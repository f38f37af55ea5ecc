// Retiring the old blue-green colour after its delay, against the real sandbox: the blue-green
// driver cuts over (old colour kept at full size, `retireAt` set), a succeeded run records it,
// and a tick after the delay scales the old colour to zero — once, and not while locked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ClusterApi } from '../../src/cluster/api.js';
import { createDriver, kubeFromKubeconfig, type RolloutState } from '../../src/cluster/index.js';
import type { BlueGreenState } from '../../src/cluster/bluegreen.js';
import { rolloutStateFor } from '../helpers/plan.js';
import { defaultRef } from '../../src/runner/index.js';
import type { RunRecord } from '../../src/store/records.js';
import { retirements } from '../../src/schedule/index.js';
import { DEV, MIN, startWorld, type World } from './world.js';

let w: World;
beforeEach(async () => {
  w = await startWorld();
});
afterEach(async () => {
  await w.close();
});

async function replicas(name: string): Promise<number | undefined> {
  return (await new ClusterApi(kubeFromKubeconfig(w.sandbox.kubeconfigYaml())).findDeployment('production', name))?.spec?.replicas;
}

/** A blue-green deploy of checkout through the real driver, recorded as a succeeded run. */
async function blueGreenDeploy(id: string, version: string): Promise<BlueGreenState> {
  const { request, plan } = w.plan(`deploy checkout ${version} blue-green`);
  const ref = defaultRef(w.config.services.find((s) => s.name === 'checkout')!, 'production')!;
  const driver = createDriver('blue-green', {
    kube: kubeFromKubeconfig(w.sandbox.kubeconfigYaml()),
    clock: w.clock,
    pollMs: 500,
    retireAfterSec: 600,
  });
  let state = await driver.prepare(ref, plan);
  for (const stage of driver.stages(plan, state)) state = await driver.applyStage(ref, state, stage);
  state = await driver.promote(ref, state);
  if (state.strategy !== 'blue-green') throw new Error("a blue-green driver returned another strategy's state");
  const now = w.clock.now();
  const rec: RunRecord = {
    id,
    service: 'checkout',
    environment: 'production',
    version,
    strategy: 'blue-green',
    plan,
    request,
    phase: { status: 'succeeded', outcome: '' },
    restarts: [],
    requester: DEV,
    origin: { kind: 'terminal' },
    steps: [],
    data: {},
    targets: [{ environment: 'production', rollout: state }],
    createdAt: now,
    updatedAt: now,
  };
  await w.store.saveRun(rec);
  return state;
}

describe('retiring the idle blue-green colour', () => {
  it('scales the old colour to zero after the delay, not before, not while locked, and once', async () => {
    const state = await blueGreenDeploy('r-bg1', 'v1.3.0');
    expect(state.retireAt).toBeGreaterThan(w.clock.now() + 9 * MIN); // retireAfterSec 600
    expect(await replicas('checkout')).toBeGreaterThan(0); // the old colour, kept for an instant rollback

    expect((await w.scheduler.tick()).retired).toEqual([]);
    w.clock.advance(11 * MIN);
    await w.runner.lock('checkout', 'production', DEV, 'checking something');
    expect((await w.scheduler.tick()).retired).toEqual([]);
    expect(await replicas('checkout')).toBeGreaterThan(0);

    await w.runner.unlock('checkout', 'production', DEV);
    const tick = await w.scheduler.tick();
    expect(tick.errors).toEqual([]);
    expect(tick.retired).toEqual([{ runId: 'r-bg1', deployments: ['checkout'] }]);
    expect(await replicas('checkout')).toBe(0);
    expect(await replicas('checkout-green')).toBeGreaterThan(0); // the live colour is untouched
    expect((await w.runner.auditTrail('r-bg1')).find((e) => e.action === 'retire-idle-colour')?.detail).toBe('scaled checkout to 0');

    w.restart();
    expect((await w.scheduler.tick()).retired).toEqual([]);
  });
});

describe('retirements', () => {
  const run = (id: string, createdAt: number, retireAt?: number, strategy: RunRecord['strategy'] = 'blue-green') => ({
    id,
    service: 'checkout',
    environment: 'production' as const,
    strategy,
    phase: { status: 'succeeded' as const, outcome: '' },
    createdAt,
    targets: [
      {
        environment: 'production' as const,
        rollout: { ...rolloutStateFor(strategy), ...(retireAt !== undefined ? { retireAt } : {}) } as RolloutState,
      },
    ],
  });
  it('retires only the newest run per service; older ones are superseded; not yet due or locked waits', () => {
    const free = () => false;
    expect(retirements([run('a', 1, 100)], 50, free)).toEqual([]);
    expect(retirements([run('a', 1, 100), run('b', 2, 200)], 300, free).map((d) => `${d.runId}:${d.action}`)).toEqual([
      'a:superseded',
      'b:retire',
    ]);
    expect(retirements([run('a', 1, 100)], 300, () => true).map((d) => d.action)).toEqual(['wait']);
    expect(retirements([run('c', 1, 100, 'canary')], 300, free)).toEqual([]);
  });
});
