// A service another reconciler owns is refused before anything changes (issue 27, first part):
// Argo CD in label tracking mode with automated self-heal and prune, a Flux Kustomization, and the
// marks that do not make an owner (a copied tracking id, a Helm instance label without its
// Application). Objects are written through the sandbox's API with client-node, as kubectl would.
import { afterEach, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { mergePatch } from '../../src/cluster/kube.js';
import { FINAL_STATUSES, outcomeOf } from '../../src/domain/run.js';
import { started, startWorld, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

async function mark(world: World, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }) {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  await kube.apps.patchNamespacedDeployment({ name: 'checkout', namespace: 'production', body: { metadata: meta } }, mergePatch);
  return kube;
}

async function owner(world: World, ns: string, body: Record<string, unknown>, res: { group: string; version: string; plural: string }) {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  await kube.core.createNamespace({ body: { metadata: { name: ns } } }).catch(() => undefined);
  await kube.custom.createNamespacedCustomObject({ ...res, namespace: ns, body });
}

async function image(world: World): Promise<string | undefined> {
  const d = await kubeFromKubeconfig(world.sandbox.kubeconfigYaml()).apps.readNamespacedDeployment({
    name: 'checkout',
    namespace: 'production',
  });
  return d.spec?.template.spec?.containers[0]?.image;
}

const settled = (r: { phase: { status: string } }) => FINAL_STATUSES.has(r.phase.status as never) || r.phase.status === 'awaiting-decision';

describe('other writers', () => {
  it('Argo CD (label tracking, automated self-heal and prune): refused at validation, naming the Application; nothing changed', async () => {
    w = await startWorld();
    await mark(w, { labels: { 'app.kubernetes.io/instance': 'shop' } });
    await owner(
      w,
      'argocd',
      {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'Application',
        metadata: { name: 'shop', namespace: 'argocd' },
        spec: { project: 'default', syncPolicy: { automated: { selfHeal: true, prune: true } } },
      },
      { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' },
    );
    const before = await image(w);
    const run = started(await w.deploy('deploy checkout v1.2.3 canary'));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status).toBe('failed');
    const validate = done.steps.find((s) => s.key === 'validate')!;
    expect(validate.status).toBe('failed');
    expect(`${validate.detail} ${outcomeOf(done)}`).toMatch(
      /managed by Argo CD Application shop \(label tracking\).*self-heal puts back any change.*Nothing was changed/,
    );
    expect(done.steps.find((s) => s.key === 'prepare')?.status).toBe('skipped');
    expect(await image(w)).toBe(before);
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
  });

  it('a Flux Kustomization: refused the same way', async () => {
    w = await startWorld();
    await mark(w, { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } });
    await owner(
      w,
      'flux-system',
      {
        apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
        kind: 'Kustomization',
        metadata: { name: 'apps', namespace: 'flux-system' },
        spec: { interval: '10m', path: './production', prune: true, sourceRef: { kind: 'GitRepository', name: 'shop' } },
      },
      { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' },
    );
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status).toBe('failed');
    expect(outcomeOf(done)).toMatch(/managed by Flux Kustomization flux-system\/apps.*every 10m.*prunes/);
  });

  it('marks that make no owner: a copied tracking id, a Helm instance label without its Application', async () => {
    w = await startWorld();
    await mark(w, {
      labels: { 'app.kubernetes.io/instance': 'checkout-chart' },
      annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:production/checkout-template' },
    });
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    // Shipbot's writes carry its field manager: managedFields tell the team who changed what.
    const d = await kubeFromKubeconfig(w.sandbox.kubeconfigYaml()).apps.readNamespacedDeployment({
      name: 'checkout',
      namespace: 'production',
    });
    expect(d.metadata?.managedFields?.map((m) => m.manager)).toContain('shipbot');
  });
});
