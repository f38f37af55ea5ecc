// GitOps with Argo CD (issue 27): the sandbox's Argo CD stand-in applies a path from a real Git
// repository (git http-backend on loopback), self-heals and prunes in label tracking mode. Shipbot
// pauses the Application, deploys, commits the release to Git, and resumes it: the release sticks.
import { afterEach, describe, expect, it } from 'vitest';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { mergePatch } from '../../src/cluster/kube.js';
import type { GitServer } from '../helpers/git-server.js';
import { REQUESTER, servingImages, started, until, type World } from '../runner/world.js';
import { rolloutConfig } from '../helpers/rollouts.js';
import { fiveMinutes, REPO, settled, startGitopsWorld, waitFor } from './world.js';
import { pendingDecision } from '../../src/domain/run.js';

const ARGO = { argocd: { application: 'shop', namespace: 'argocd' } };
const APPS = { group: 'argoproj.io', version: 'v1alpha1', plural: 'applications' };
let w: World | undefined;
let git: GitServer | undefined;
afterEach(async () => {
  await w?.close();
  await git?.close();
  w = git = undefined;
});

/** The team's repository, written from what the cluster runs now, and an Application syncing it. */
async function adopt(world: World, server: GitServer): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  const d = await kube.apps.readNamespacedDeployment({ name: 'checkout', namespace: 'production' });
  const svc = await kube.core.readNamespacedService({ name: 'checkout', namespace: 'production' });
  const selector = Object.entries(svc.spec!.selector!)
    .map(([k, v]) => `    ${k}: ${v}`)
    .join('\n');
  server.createRepo('deploy', {
    'production/checkout.yaml': `# checkout in production: the release train bumps the image below
apiVersion: apps/v1
kind: Deployment
metadata:
  name: checkout
  labels: { app.kubernetes.io/instance: shop }
spec:
  replicas: ${d.spec!.replicas}
  template:
    spec:
      containers:
        - name: app
          image: ${REPO}:v1.2.2
---
apiVersion: v1
kind: Service
metadata:
  name: checkout
spec:
  selector:
${selector}
`,
  });
  // Argo CD applied it: its tracking label is on the objects.
  await kube.apps.patchNamespacedDeployment(
    { name: 'checkout', namespace: 'production', body: { metadata: { labels: { 'app.kubernetes.io/instance': 'shop' } } } },
    mergePatch,
  );
  await applicationSyncing(world, server);
}

/** Argo CD applied the repository: an Application syncs its production path, automated with self-heal and prune. */
async function applicationSyncing(world: World, server: GitServer): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  await kube.core.createNamespace({ body: { metadata: { name: 'argocd' } } });
  await kube.custom.createNamespacedCustomObject({
    ...APPS,
    namespace: 'argocd',
    body: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      metadata: { name: 'shop', namespace: 'argocd' },
      spec: {
        project: 'default',
        source: { repoURL: server.url('deploy'), targetRevision: 'main', path: 'production' },
        destination: { server: 'https://kubernetes.default.svc', namespace: 'production' },
        syncPolicy: { automated: { selfHeal: true, prune: true } },
      },
    },
  });
  await waitFor(async () => (await app(world)).status?.sync?.status === 'Synced', 'the Application to sync');
}

async function app(world: World): Promise<{
  spec: { syncPolicy: { automated?: unknown } };
  status?: { sync?: { status?: string; revision?: string }; health?: { status?: string } };
}> {
  return (await kubeFromKubeconfig(world.sandbox.kubeconfigYaml()).custom.getNamespacedCustomObject({
    ...APPS,
    namespace: 'argocd',
    name: 'shop',
  })) as never;
}

/** The team's repository names checkout's Rollout (as the cluster runs it), and an Application syncs it. */
async function adoptRollout(world: World, server: GitServer): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  server.createRepo('deploy', {
    'production/checkout.yaml': `# checkout in production, an Argo Rollout
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: checkout
  labels: { app.kubernetes.io/instance: shop }
spec:
  replicas: 20
  template:
    spec:
      containers:
        - name: app
          image: ${REPO}:v1.2.2
`,
  });
  await kube.custom.patchNamespacedCustomObject(
    {
      group: 'argoproj.io',
      version: 'v1alpha1',
      plural: 'rollouts',
      namespace: 'production',
      name: 'checkout',
      body: { metadata: { labels: { 'app.kubernetes.io/instance': 'shop' } } },
    },
    mergePatch,
  );
  await applicationSyncing(world, server);
}

describe('GitOps with Argo CD', () => {
  it('the stand-in is no kinder than Argo CD: a change made by hand is put back, and what it tracks but Git lacks is pruned', async () => {
    ({ w, git } = await startGitopsWorld(ARGO));
    await adopt(w, git);
    const kube = kubeFromKubeconfig(w.sandbox.kubeconfigYaml());
    const d = await kube.apps.readNamespacedDeployment({ name: 'checkout', namespace: 'production' });
    d.spec!.template.spec!.containers[0]!.image = `${REPO}:v9.9.9`;
    await kube.apps.replaceNamespacedDeployment({ name: 'checkout', namespace: 'production', body: d });
    await waitFor(async () => {
      const now = await kube.apps.readNamespacedDeployment({ name: 'checkout', namespace: 'production' });
      return now.spec!.template.spec!.containers[0]!.image === `${REPO}:v1.2.2`;
    }, 'self-heal to put v1.2.2 back');
    // Copies of the Deployment that look like the app's (its label, or its own tracking id) are
    // pruned; one that carries no mark of the app is left alone, as Shipbot's canary is.
    const copy = (name: string, meta: { labels?: Record<string, string>; annotations?: Record<string, string> }) => {
      const body = structuredClone(d);
      body.metadata = {
        name,
        namespace: 'production',
        labels: { ...(d.metadata?.labels ?? {}), ...meta.labels },
        annotations: meta.annotations,
      };
      if (!meta.labels) delete body.metadata.labels!['app.kubernetes.io/instance'];
      return kube.apps.createNamespacedDeployment({ namespace: 'production', body });
    };
    await copy('checkout-by-label', { labels: { 'app.kubernetes.io/instance': 'shop' } });
    await copy('checkout-by-id', { annotations: { 'argocd.argoproj.io/tracking-id': 'shop:apps/Deployment:production/checkout-by-id' } });
    await copy('checkout-unmarked', {});
    const names = async () => (await kube.apps.listNamespacedDeployment({ namespace: 'production' })).items.map((x) => x.metadata!.name!);
    await waitFor(async () => !(await names()).some((n) => n === 'checkout-by-label' || n === 'checkout-by-id'), 'prune');
    expect(await names()).toContain('checkout-unmarked');
  });

  it('canary: paused, deployed, committed to Git, resumed; the release sticks. An -errors canary rolls back and Git is untouched', async () => {
    ({ w, git } = await startGitopsWorld(ARGO));
    await adopt(w, git);
    const run = started(await w.deploy('deploy checkout v1.2.3 canary', { canarySteps: [25, 100] }));
    const done = await until(w.runner, run.id, settled);
    const steps = done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n');
    expect(done.phase.status, steps).toBe('succeeded');
    expect(done.steps.find((s) => s.key === 'suspend-owner')?.status, steps).toBe('done');
    expect(done.steps.find((s) => s.key === 'commit-release')?.status, steps).toBe('done');
    expect(done.steps.find((s) => s.key === 'resume-owner')?.status, steps).toBe('done');
    expect(git.log('deploy')).toEqual(['shipbot: checkout v1.2.3 to production', 'initial']);
    expect(git.show('deploy', 'production/checkout.yaml')).toContain(`image: ${REPO}:v1.2.3`);
    expect(git.show('deploy', 'production/checkout.yaml')).toContain('# checkout in production: the release train bumps the image below');
    const a = await app(w);
    expect(a.spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
    // Five minutes later (the clock runs 100×), production still serves the release.
    await fiveMinutes();
    expect((await app(w)).status?.sync?.status).toBe('Synced');
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));

    const bad = started(await w.deploy('deploy checkout v1.2.4-errors canary', { canarySteps: [25, 100] }));
    const rolled = await until(w.runner, bad.id, settled);
    expect(rolled.phase.status, rolled.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('rolled-back');
    expect(rolled.steps.find((s) => s.key === 'resume-owner')?.status).toBe('done');
    expect(git.log('deploy')).toHaveLength(2);
    await fiveMinutes();
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));
    expect((await app(w)).spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
  });

  it.each(['blue-green', 'rolling'])(
    '%s: succeeds, Git names what serves, and it still serves after the owner resumed',
    async (strategy) => {
      ({ w, git } = await startGitopsWorld(ARGO));
      await adopt(w, git);
      const run = started(await w.deploy(`deploy checkout v1.2.3 ${strategy}`));
      const done = await until(w.runner, run.id, settled);
      expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('succeeded');
      expect(git.log('deploy')).toEqual(['shipbot: checkout v1.2.3 to production', 'initial']);
      await fiveMinutes();
      expect((await app(w)).status?.sync?.status).toBe('Synced');
      expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));
    },
  );

  it.each(['prepare', 'resume-owner'])('a crash during %s resumes: the policy is put back, Git and production agree', async (stepKey) => {
    ({ w, git } = await startGitopsWorld(ARGO));
    await adopt(w, git);
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    await until(w.runner, run.id, (r) => r.steps.some((s) => s.key === stepKey && s.status === 'running'));
    await w.runner.close();
    // Crashed with the Application paused: its policy is in the run, not lost.
    expect((await w.store.getRun(run.id))!.data.gitops?.snapshot).toEqual({ tool: 'argocd', automated: { selfHeal: true, prune: true } });
    const runner = w.restart();
    await runner.resumeInFlight();
    const done = (await runner.settled(run.id))!;
    expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('succeeded');
    expect((await app(w)).spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
    expect(git.log('deploy')).toEqual(['shipbot: checkout v1.2.3 to production', 'initial']);
    await fiveMinutes();
    expect(new Set(await servingImages(w, 'checkout'))).toEqual(new Set([`${REPO}:v1.2.3`]));
  });

  it('an unpushable repository leaves the Application paused and asks a person', async () => {
    ({ w, git } = await startGitopsWorld(ARGO));
    await adopt(w, git);
    git.refusePushes(true);
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const asked = await until(w.runner, run.id, settled);
    expect(asked.phase.status).toBe('awaiting-decision');
    expect(pendingDecision((await w.runner.record(run.id))!)?.explanation).toMatch(/Git could not be updated .*stays paused/);
    expect((await app(w)).spec.syncPolicy.automated ?? null).toBeNull();
    expect(git.log('deploy')).toEqual(['initial']);
    // Rolling back instead: the old version is what Git names, so the Application resumes.
    await w.runner.command(run.id, 'rollback', { userId: 'U_IC', name: 'ic' });
    const end = (await w.runner.settled(run.id))!;
    expect(end.phase.status).toBe('rolled-back');
    expect((await app(w)).spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
  });

  it('an Application an ApplicationSet generates is not paused: the run stops before anything changes and says why', async () => {
    ({ w, git } = await startGitopsWorld(ARGO));
    await adopt(w, git);
    const kube = kubeFromKubeconfig(w.sandbox.kubeconfigYaml());
    await kube.custom.patchNamespacedCustomObject(
      {
        ...APPS,
        namespace: 'argocd',
        name: 'shop',
        body: {
          metadata: { ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'ApplicationSet', name: 'shops', uid: 'u-1' }] },
        },
      },
      mergePatch,
    );
    const before = await servingImages(w, 'checkout');
    const run = started(await w.deploy('deploy checkout v1.2.3 rolling'));
    const done = await until(w.runner, run.id, settled);
    expect(done.phase.status).toBe('failed');
    expect(done.steps.find((s) => s.key === 'suspend-owner')?.detail).toMatch(
      /generated by ApplicationSet shops.*ignoreApplicationDifferences/,
    );
    expect((await app(w)).spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
    expect(await servingImages(w, 'checkout')).toEqual(before);
  });

  it('an Argo Rollout Argo CD owns: the Application paused, the Rollout driven to its open pause and accepted, the release in Git, and it sticks', async () => {
    ({ w, git } = await startGitopsWorld(ARGO, rolloutConfig()));
    await adoptRollout(w, git);
    const kube = kubeFromKubeconfig(w.sandbox.kubeconfigYaml());
    // No kinder than Argo CD: the Rollout's image set by hand is put back.
    const ro = (await kube.custom.getNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      plural: 'rollouts',
      namespace: 'production',
      name: 'checkout',
    })) as {
      spec: { template: { spec: { containers: Array<{ image: string }> } } };
    };
    ro.spec.template.spec.containers[0]!.image = `${REPO}:v9.9.9`;
    await kube.custom.replaceNamespacedCustomObject({
      group: 'argoproj.io',
      version: 'v1alpha1',
      plural: 'rollouts',
      namespace: 'production',
      name: 'checkout',
      body: ro,
    });
    await waitFor(
      async () => (await servingImages(w!, 'checkout')).join() === `${REPO}:v1.2.2` && (await app(w!)).status?.health?.status === 'Healthy',
      'self-heal',
    );

    const run = started(await w.deploy('deploy checkout v1.2.3 canary'));
    const asked = await until(w.runner, run.id, settled);
    expect(asked.phase.status, asked.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('awaiting-decision');
    expect((await app(w)).spec.syncPolicy.automated).toBeUndefined();
    await w.runner.command(run.id, 'accept', REQUESTER);
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, done.steps.map((s) => `${s.status} ${s.key}: ${s.detail}`).join('\n')).toBe('succeeded');
    expect(git.log('deploy')).toEqual(['shipbot: checkout v1.2.3 to production', 'initial']);
    expect(git.show('deploy', 'production/checkout.yaml')).toContain(`image: ${REPO}:v1.2.3`);
    expect((await app(w)).spec.syncPolicy.automated).toEqual({ selfHeal: true, prune: true });
    await fiveMinutes();
    expect((await app(w)).status?.sync?.status).toBe('Synced');
    expect(await servingImages(w, 'checkout')).toEqual([`${REPO}:v1.2.3`]);
  });
});
