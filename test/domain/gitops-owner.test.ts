// Whose object is it: Argo CD's tracking label or annotation, Flux's labels (issue 27's facts).
import { describe, expect, it } from 'vitest';
import { argoPolicy, fluxPolicy, gitopsPlanNote, ownedRefusal, ownerOf, parseTrackingId } from '../../src/domain/gitops-owner.js';

const deployment = { kind: 'Deployment', group: 'apps', namespace: 'production', name: 'checkout' };

describe('ownerOf', () => {
  it('Argo CD label tracking', () => {
    expect(ownerOf({ ...deployment, labels: { 'app.kubernetes.io/instance': 'shop' } })).toEqual({
      tool: 'argocd',
      application: 'shop',
      tracking: 'label',
    });
  });
  it('Argo CD annotation tracking: only when the id names this very object', () => {
    const own = 'shop:apps/Deployment:production/checkout';
    expect(ownerOf({ ...deployment, annotations: { 'argocd.argoproj.io/tracking-id': own } })).toMatchObject({
      application: 'shop',
      tracking: 'annotation',
    });
    // Copied onto a derived object (a canary): Argo CD ignores it, and so does Shipbot.
    expect(ownerOf({ ...deployment, name: 'checkout-canary', annotations: { 'argocd.argoproj.io/tracking-id': own } })).toBeUndefined();
    // The annotation wins over a Helm-style instance label.
    expect(
      ownerOf({
        ...deployment,
        name: 'x',
        labels: { 'app.kubernetes.io/instance': 'shop' },
        annotations: { 'argocd.argoproj.io/tracking-id': own },
      }),
    ).toBeUndefined();
  });
  it('objects with an owner reference are not top-level: not Argo CD managed', () => {
    expect(
      ownerOf({ ...deployment, labels: { 'app.kubernetes.io/instance': 'shop' }, ownerReferences: [{ kind: 'Rollout' }] }),
    ).toBeUndefined();
  });
  it('Flux Kustomization and HelmRelease labels; reconcile: disabled is skipped', () => {
    const ks = { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' };
    expect(ownerOf({ ...deployment, labels: ks })).toEqual({ tool: 'flux', kind: 'Kustomization', name: 'apps', namespace: 'flux-system' });
    expect(
      ownerOf({ ...deployment, labels: { 'helm.toolkit.fluxcd.io/name': 'shop', 'helm.toolkit.fluxcd.io/namespace': 'shop' } }),
    ).toMatchObject({
      kind: 'HelmRelease',
    });
    expect(ownerOf({ ...deployment, labels: ks, annotations: { 'kustomize.toolkit.fluxcd.io/reconcile': 'disabled' } })).toBeUndefined();
  });
  it('parses tracking ids, core group and apps-in-any-namespace included', () => {
    expect(parseTrackingId('shop:/Service:production/checkout')).toEqual({
      application: 'shop',
      group: '',
      kind: 'Service',
      namespace: 'production',
      name: 'checkout',
    });
    expect(parseTrackingId('team-a_shop:apps/Deployment:production/checkout')?.application).toBe('shop');
    expect(parseTrackingId('nonsense')).toBeUndefined();
  });
});

describe('policies', () => {
  it('Argo CD: automated with self-heal reverts; 3.1 enabled: false is off; prune deletes', () => {
    expect(argoPolicy({ spec: { syncPolicy: { automated: { selfHeal: true, prune: true } } } })).toMatchObject({
      reverts: true,
      prunes: true,
    });
    expect(argoPolicy({ spec: { syncPolicy: { automated: { enabled: false, selfHeal: true, prune: true } } } })).toMatchObject({
      reverts: false,
      prunes: false,
    });
    expect(argoPolicy({ spec: {} })).toMatchObject({ reverts: false, prunes: false });
  });
  it('Flux: applies every interval unless suspended', () => {
    expect(fluxPolicy({ spec: { interval: '10m', prune: true } })).toMatchObject({
      reverts: true,
      prunes: true,
      detail: expect.stringMatching(/every 10m/),
    });
    expect(fluxPolicy({ spec: { suspend: true, prune: true } })).toMatchObject({ reverts: false, prunes: false });
  });
  it('the refusal names the owner, what it would do, and the ways out', () => {
    const text = ownedRefusal('checkout in namespace production', [
      {
        object: 'Deployment checkout',
        owner: { tool: 'argocd', application: 'shop', tracking: 'label' },
        policy: argoPolicy({ spec: { syncPolicy: { automated: { selfHeal: true, prune: true } } } }),
      },
    ]);
    expect(text).toMatch(/managed by Argo CD Application shop \(label tracking\) \(Deployment checkout\)/);
    expect(text).toMatch(/self-heal puts back any change/);
    expect(text).toMatch(/prune the canary or idle colour/);
    expect(text).toMatch(/Nothing was changed/);
    expect(text).toMatch(/take these objects out of the reconciler/);
  });
});

describe('gitopsPlanNote', () => {
  it('says in the proposal who applies the environment and what Shipbot will do', () => {
    expect(
      gitopsPlanNote('checkout', 'production', {
        argocd: { application: 'shop', namespace: 'argocd' },
        git: { url: 'https://git.example.com/deploy.git', branch: 'main', path: 'prod/checkout.yaml' },
      }),
    ).toBe(
      '🔁 checkout in production is applied from Git by Argo CD Application argocd/shop: Shipbot pauses it, deploys, commits the release to `prod/checkout.yaml` on main, then resumes it.',
    );
    expect(gitopsPlanNote('checkout', 'production', undefined)).toBeUndefined();
  });
});
