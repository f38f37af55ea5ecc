// GitOps with Flux (issue 27): the sandbox's Flux stand-in applies a GitRepository's path on every
// interval (a forced apply: drift is put back) and prunes by its labels. Shipbot suspends the
// Kustomization, deploys, commits the release to Git and resumes it.
import { afterEach, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { mergePatch } from '../../src/cluster/kube.js';
import type { GitServer } from '../helpers/git-server.js';
import { servingImages, started, until, type World } from '../runner/world.js';
import { fiveMinutes, REPO, settled, startGitopsWorld, waitFor } from './world.js';

const FLUX = { flux: { kustomization: 'apps', namespace: 'flux-system' } };
const KS = { group: 'kustomize.toolkit.fluxcd.io', version: 'v1', plural: 'kustomizations' };
const SOURCES = { group: 'source.toolkit.fluxcd.io', version: 'v1', plural: 'gitrepositories' };
const LABELS = { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
let w: World | undefined;
let git: GitServer | undefined;
afterEach(async () => {
  await w?.close();
  await git?.close();
  w = git = undefined;
});

async function ks(world: World) {
  return (await kubeFromKubeconfig(world.sandbox.kubeconfigYaml()).custom.getNamespacedCustomObject({
    ...KS,
    namespace: 'flux-system',
    name: 'apps',
  })) as {
    spec: { suspend?: boolean };
    status?: { lastAppliedRevision?: string };
  };
}

async function adopt(world: World, server: GitServer): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  const d = await kube.apps.readNamespacedDeployment({ name: 'checkout', namespace: 'production' });
  server.createRepo('deploy', {
    'production/checkout.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
spec:
  replicas: ${d.spec!.replicas}
  template:
    spec:
      containers:
        - name: app
          image: ${REPO}:v1.2.2 # {"$imagepolicy": "flux-system:checkout"}
`,
  });
  await kube.apps.patchNamespacedDeployment(
    { name: 'checkout', namespace: 'production', body: { metadata: { labels: LABELS } } },
    mergePatch,
  );
  await kube.core.createNamespace({ body: { metadata: { name: 'flux-system' } } });
  await kube.custom.createNamespacedCustomObject({
    ...SOURCES,
    namespace: 'flux-system',
    body: {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: 'shop', namespace: 'flux-system' },
      spec: { url: server.url('deploy'), ref: { branch: 'main' }, interval: '1m' },
    },
  });
  await kube.custom.createNamespacedCustomObject({
    ...KS,
    namespace: 'flux-system',
    body: {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: 'apps', namespace: 'flux-system' },
      spec: {
        interval: '1m',
        path: './production',
        prune: true,
        targetNamespace: 'production',
        sourceRef: { kind: 'GitRepository', name: 'shop' },
      },
    },
  });
  await waitFor(async () => Boolean((await ks(world)).status?.lastAppliedRevision), 'the Kustomization to apply');
}

describe('GitOps with Flux', () => {
  it('canary: suspended, deployed, committed, resumed at that commit; an -errors canary rolls back and Git is untouched', async () => {
    ({ w, git } = await startGitopsWorld(FLUX));
    await adopt(w, git);
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100] }));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('succeeded');
    expect(git.log('deploy')).toEqual(['shipbot: checkout v1.2.3 to production', 'initial']);
    // The image-policy marker comment the team keeps is kept.
    expect(git.show('deploy', 'production/checkout.yaml')).toContain(`image: ${REPO}:v1.2.3 # {"$imagepolicy": "flux-system:checkout"}`);
    const k = await ks(w);
    expect(k.spec.suspend).toBe(false);
    expect(k.status?.lastAppliedRevision).toMatch(/^main@sha1:[0-9a-f]{40}$/);
    await fiveMinutes();
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));

    const bad = started(await w.deploy('deploy checkout v1.2.4-errors canary', { canarySteps: [25, 100] }));
    expect((await until(w.runner, bad.id, settled)).phase.status).toBe('rolled-back');
    expect(git.log('deploy')).toHaveLength(2);
    await fiveMinutes();
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));
    expect((await ks(w)).spec.suspend).toBe(false);
  });

  it.each(['blue-green', 'rolling'])('%s succeeds and the release sticks', async (strategy) => {
    ({ w, git } = await startGitopsWorld(FLUX));
    await adopt(w, git);
    const run = started(await w.deploy(`deploy checkout v1.2.3 ${strategy}`));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('succeeded');
    expect((await ks(w)).spec.suspend).toBe(false);
    await fiveMinutes();
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));
  });
});
