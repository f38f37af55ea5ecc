// A crash right after each write Shipbot makes to a route: the first process is cut off from
// the cluster the instant the sandbox applies the write (its reply never arrives, no later call
// lands), a new runner on the same database resumes the run, and it ends as documented: the
// HTTPRoute as its team wrote it plus the canary at weight 0, and the right version serving.
import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import type { ShipbotConfig } from '../../src/config.js';
import { HTTP_ROUTES, VIRTUAL_SERVICES } from '../../src/sandbox/routes.js';
import { severableKube, type Severable } from '../helpers/severable.js';
import { REQUESTER, servingImages, startWorld, started, until, withoutStaging, type World } from './world.js';
import { outcomeOf } from '../../src/domain/run.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

type Kind = 'HTTPRoute' | 'VirtualService';

/** catalog's route after the run, as documented: as written plus the canary at weight 0. */
const AFTER: Record<Kind, unknown[]> = {
  HTTPRoute: [
    { group: '', kind: 'Service', name: 'catalog', port: 80, weight: 1 },
    { group: '', kind: 'Service', name: 'catalog-canary', port: 80, weight: 0 },
  ],
  VirtualService: [
    { destination: { host: 'catalog', port: { number: 80 } }, weight: 100 },
    { destination: { host: 'catalog-canary', port: { number: 80 } }, weight: 0 },
  ],
};

const RES = {
  HTTPRoute: {
    def: HTTP_ROUTES,
    api: { group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes' },
    backends: (spec: unknown) => (spec as { rules: Array<{ backendRefs: unknown[] }> }).rules[0]!.backendRefs,
  },
  VirtualService: {
    def: VIRTUAL_SERVICES,
    api: { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' },
    backends: (spec: unknown) => (spec as { http: Array<{ route: unknown[] }> }).http[0]!.route,
  },
} as const;

/** The shipped config (production only) with catalog's route of `kind`; the demo seeds that route. */
function configFor(kind: Kind): ShipbotConfig {
  const cfg = withoutStaging();
  const trafficRouting = kind === 'HTTPRoute' ? { gatewayAPI: { httpRoute: 'catalog' } } : { istio: { virtualService: 'catalog' } };
  return {
    ...cfg,
    services: cfg.services.map((s) =>
      s.name === 'catalog' ? { ...s, environments: { production: { ...s.environments.production, trafficRouting } } } : s,
    ),
  };
}

async function route(world: World, kind: Kind) {
  const custom = kubeFromKubeconfig(world.sandbox.kubeconfigYaml()).kc.makeApiClient(CustomObjectsApi);
  const r = (await custom.getNamespacedCustomObject({ ...RES[kind].api, namespace: 'production', name: 'catalog' })) as {
    metadata: { labels?: Record<string, string> };
    spec: unknown;
  };
  return { labels: r.metadata.labels, backends: RES[kind].backends(r.spec) as unknown[] };
}

/** Starts a world whose first runner dies right after the `nth` spec change of catalog's route; resolves with the weights it wrote. */
async function crashingWorld(kind: Kind, nth: number): Promise<{ world: World; crashed: Promise<string> }> {
  let cut: Severable | undefined;
  const world = await startWorld({ config: configFor(kind), firstKube: async (sb) => (cut = await severableKube(sb)).kube });
  let writes = 0;
  const crashed = new Promise<string>((resolve) => {
    world.sandbox.store.onChange((c) => {
      if (c.def !== RES[kind].def || c.type !== 'MODIFIED' || c.previous?.metadata.generation === c.object.metadata.generation) return;
      if (++writes !== nth) return;
      const closing = world.runner.close();
      cut!.sever();
      const weights = (RES[kind].backends(c.object.spec) as Array<{ weight?: number }>).map((b) => b.weight).join('/');
      void closing.then(() => resolve(weights));
    });
  });
  return { world, crashed };
}

describe.each(['HTTPRoute', 'VirtualService'] as const)('a crash between two writes to a %s', (kind) => {
  const released = kind === 'HTTPRoute' ? '1/0' : '100/0';
  // A 10% → 100% canary writes the route three times: hold (canary at 0), 90/10, release.
  it.each([
    [1, released],
    [2, '90/10'],
    [3, released],
  ])('after write %i (weights %s): resumes and ends on the new version, the route as documented', async (nth, weights) => {
    const { world, crashed } = await crashingWorld(kind, nth);
    w = world;
    const run = started(await w.deploy('deploy catalog v2.0.0 canary', { canarySteps: [10, 100] }));
    expect(await crashed).toBe(weights);
    const runner = w.restart();
    expect(await runner.resumeInFlight()).toEqual([expect.objectContaining({ runId: run.id, action: 'resume' })]);
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect(await route(w, kind)).toEqual({ labels: { app: 'catalog' }, backends: AFTER[kind] });
    expect(await servingImages(w, 'catalog')).toEqual(['registry.example.com/shop/catalog:v2.0.0']);
  });

  it('after the rollback write: resumes the rollback, the old version serves and the route is as documented', async () => {
    const { world, crashed } = await crashingWorld(kind, 3);
    w = world;
    const run = started(await w.deploy('deploy catalog v2.0.0 canary', { canarySteps: [10, 100], stageWindowSec: 3000 }));
    await until(
      w.runner,
      run.id,
      // The stage's weight is on the route and its window is being watched ("… of traffic on v2.0.0").
      (r) => r.steps.some((s) => s.key === 'stage:canary-10' && s.status === 'running' && / of traffic on v2\.0\.0/.test(s.detail ?? '')),
    );
    await w.runner.command(run.id, 'rollback', REQUESTER);
    expect(await crashed).toBe(released);
    const runner = w.restart();
    expect((await runner.resumeInFlight())[0]).toMatchObject({ runId: run.id, action: 'resume' });
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(await route(w, kind)).toEqual({ labels: { app: 'catalog' }, backends: AFTER[kind] });
    expect(await servingImages(w, 'catalog')).toEqual(['registry.example.com/shop/catalog:v1.2.2']);
  });
});
