// A crash right after each write Shipbot makes to a route: the first process is cut off from
// the cluster the instant the sandbox applies the write (its reply never arrives, no later call
// lands), a new runner on the same database resumes the run, and it ends as documented: the
// HTTPRoute as its team wrote it plus the canary at weight 0, and the right version serving.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { HTTP_ROUTES } from '../../src/sandbox/routes.js';
import { severableKube, type Severable } from '../helpers/severable.js';
import { REQUESTER, servingImages, startWorld, started, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const AFTER = [
  { group: '', kind: 'Service', name: 'catalog', port: 80, weight: 1 },
  { group: '', kind: 'Service', name: 'catalog-canary', port: 80, weight: 0 },
];

async function route(world: World) {
  const custom = kubeFromKubeconfig(world.sandbox.kubeconfigYaml()).kc.makeApiClient(CustomObjectsApi);
  return (await custom.getNamespacedCustomObject({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: 'production', name: 'catalog' })) as {
    metadata: { labels?: Record<string, string> };
    spec: { rules: Array<{ backendRefs: unknown[] }> };
  };
}

/** Starts a world whose first runner dies right after the `nth` spec change of the catalog route; resolves the crash. */
async function crashingWorld(nth: number): Promise<{ world: World; crashed: Promise<string> }> {
  let cut: Severable | undefined;
  const world = await startWorld({ firstKube: async (sb) => (cut = await severableKube(sb)).kube });
  let writes = 0;
  const crashed = new Promise<string>((resolve) => {
    world.sandbox.store.onChange((c) => {
      if (c.def !== HTTP_ROUTES || c.type !== 'MODIFIED' || c.previous?.metadata.generation === c.object.metadata.generation) return;
      if (++writes !== nth) return;
      const closing = world.runner.close();
      cut!.sever();
      const weights = (c.object.spec.rules[0].backendRefs as Array<{ weight: number }>).map((b) => b.weight).join('/');
      void closing.then(() => resolve(weights));
    });
  });
  return { world, crashed };
}

describe('a crash between two route writes', () => {
  // A 10% → 100% canary writes the route three times: hold (canary at 0), 90/10, release.
  it.each([
    [1, '1/0'],
    [2, '90/10'],
    [3, '1/0'],
  ])('after write %i (weights %s): resumes and ends on the new version, the route as documented', async (nth, weights) => {
    const { world, crashed } = await crashingWorld(nth);
    w = world;
    const run = started(await w.deploy('deploy catalog v2.0.0 canary', { canarySteps: [10, 100] }));
    expect(await crashed).toBe(weights);
    const runner = w.restart();
    expect(await runner.resumeInFlight()).toEqual([expect.objectContaining({ runId: run.id, action: 'resume' })]);
    const done = (await runner.settled(run.id))!;
    expect(done.status, done.outcome).toBe('succeeded');
    const r = await route(w);
    expect(r.spec.rules[0]!.backendRefs).toEqual(AFTER);
    expect(r.metadata.labels).toEqual({ app: 'catalog' });
    expect(await servingImages(w, 'catalog')).toEqual(['registry.example.com/shop/catalog:v2.0.0']);
  });

  it('after the rollback write: resumes the rollback, the old version serves and the route is as documented', async () => {
    const { world, crashed } = await crashingWorld(3);
    w = world;
    const run = started(await w.deploy('deploy catalog v2.0.0 canary', { canarySteps: [10, 100], stageWindowSec: 3000 }));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === 'stage:canary-10' && s.status === 'running') && r.stage?.startsWith('canary 10%') === true);
    await w.runner.command(run.id, 'rollback', REQUESTER);
    expect(await crashed).toBe('1/0');
    const runner = w.restart();
    expect((await runner.resumeInFlight())[0]).toMatchObject({ runId: run.id, action: 'resume' });
    const done = (await runner.settled(run.id))!;
    expect(done.status, done.outcome).toBe('rolled-back');
    expect((await route(w)).spec.rules[0]!.backendRefs).toEqual(AFTER);
    expect(await servingImages(w, 'catalog')).toEqual(['registry.example.com/shop/catalog:v1.2.2']);
  });
});
