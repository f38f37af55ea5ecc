// Who else writes an object: Argo CD or Flux, read from the marks they leave on what they apply.
// Pure: the cluster adapter reads the objects and their owners' policies; this decides.
//
// Argo CD (argo-cd `util/argo/resource_tracking.go`, docs "Resource Tracking"):
// - label tracking (the default before 3.0): `app.kubernetes.io/instance: <app>`;
// - annotation tracking (the default since 3.0): `argocd.argoproj.io/tracking-id:
//   <app>:<group>/<kind>:<namespace>/<name>`; an object whose tracking id names another object
//   was copied, and Argo CD ignores it (never prunes it);
// - only top-level objects count: one with ownerReferences (a ReplicaSet, a Pod) is not managed.
// Flux (kustomize-controller and helm-controller docs): labels `kustomize.toolkit.fluxcd.io/name`
// and `/namespace`, or `helm.toolkit.fluxcd.io/name` and `/namespace`; an object annotated
// `kustomize.toolkit.fluxcd.io/reconcile: disabled` is skipped by the controller.

import type { GitopsConfig } from './config-schema.js';

export const ARGO_INSTANCE_LABEL = 'app.kubernetes.io/instance';
export const ARGO_TRACKING_ANNOTATION = 'argocd.argoproj.io/tracking-id';
export const FLUX_KS_LABELS = { name: 'kustomize.toolkit.fluxcd.io/name', namespace: 'kustomize.toolkit.fluxcd.io/namespace' };
export const FLUX_HR_LABELS = { name: 'helm.toolkit.fluxcd.io/name', namespace: 'helm.toolkit.fluxcd.io/namespace' };
export const FLUX_RECONCILE_ANNOTATION = 'kustomize.toolkit.fluxcd.io/reconcile';

export interface ObjectMarks {
  kind: string;
  /** API group ('' for the core group). */
  group: string;
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: unknown[];
}

/** The reconciler an object belongs to, by its marks. */
export type Owner =
  | { tool: 'argocd'; application: string; tracking: 'label' | 'annotation' }
  | { tool: 'flux'; kind: 'Kustomization' | 'HelmRelease'; name: string; namespace: string };

/**
 * `labels` without the marks that make a reconciler claim an object: what Shipbot creates (a
 * canary, the other colour) is never taken for part of the team's app, so never pruned with it.
 */
export function withoutOwnerMarks(labels: Record<string, string>): Record<string, string> {
  const marks = new Set<string>([ARGO_INSTANCE_LABEL, ...Object.values(FLUX_KS_LABELS), ...Object.values(FLUX_HR_LABELS)]);
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !marks.has(k)));
}

/** The owner an object's marks name, or undefined when nothing claims it. */
export function ownerOf(o: ObjectMarks): Owner | undefined {
  const labels = o.labels ?? {};
  const annotations = o.annotations ?? {};
  const flux = fluxOwner(labels, annotations);
  if (flux) return flux;
  if (o.ownerReferences?.length) return undefined;
  const tracking = annotations[ARGO_TRACKING_ANNOTATION];
  if (tracking) {
    const t = parseTrackingId(tracking);
    // A copied annotation names another object: Argo CD leaves this one alone.
    if (!t || t.kind !== o.kind || t.group !== o.group || t.namespace !== o.namespace || t.name !== o.name) return undefined;
    return { tool: 'argocd', application: t.application, tracking: 'annotation' };
  }
  const instance = labels[ARGO_INSTANCE_LABEL];
  return instance ? { tool: 'argocd', application: instance, tracking: 'label' } : undefined;
}

function fluxOwner(labels: Record<string, string>, annotations: Record<string, string>): Owner | undefined {
  if (annotations[FLUX_RECONCILE_ANNOTATION] === 'disabled') return undefined;
  for (const [kind, l] of [
    ['Kustomization', FLUX_KS_LABELS],
    ['HelmRelease', FLUX_HR_LABELS],
  ] as const) {
    const name = labels[l.name];
    if (name) return { tool: 'flux', kind, name, namespace: labels[l.namespace] ?? 'flux-system' };
  }
  return undefined;
}

/** `<app>:<group>/<kind>:<namespace>/<name>` (the group is empty for core objects: `app:/Service:ns/name`). */
export function parseTrackingId(
  id: string,
): { application: string; group: string; kind: string; namespace: string; name: string } | undefined {
  const m = /^([^:]+):([^/]*)\/([^:]+):([^/]*)\/(.+)$/.exec(id.trim());
  if (!m) return undefined;
  // Apps outside Argo CD's own namespace are `<namespace>_<app>`.
  const application = m[1]!.includes('_') ? m[1]!.slice(m[1]!.indexOf('_') + 1) : m[1]!;
  return { application, group: m[2]!, kind: m[3]!, namespace: m[4]!, name: m[5]! };
}

/** What the owner does on its own, from its object (an Argo CD Application, a Flux Kustomization or HelmRelease). */
export interface OwnerPolicy {
  /** The owner object could be read. */
  found: boolean;
  /** It puts back drift (Argo CD self-heal; Flux on every interval unless suspended). */
  reverts: boolean;
  /** It deletes what Git does not name (and what looks like its own). */
  prunes: boolean;
  /** Why, in words. */
  detail: string;
}

/** An Argo CD Application's sync policy (3.1+: `automated.enabled: false` turns it off). */
export function argoPolicy(app: {
  spec?: { syncPolicy?: { automated?: { enabled?: boolean; selfHeal?: boolean; prune?: boolean } } };
}): OwnerPolicy {
  const auto = app.spec?.syncPolicy?.automated;
  const on = auto !== undefined && auto !== null && auto.enabled !== false;
  const reverts = on && auto?.selfHeal === true;
  const prunes = on && auto?.prune === true;
  const detail = !on
    ? 'auto-sync is off: it reports drift but applies Git only when someone syncs'
    : `auto-sync on${reverts ? ', self-heal puts back any change within seconds' : ', no self-heal: the next Git change syncs over it'}${prunes ? ', prune deletes objects Git does not name' : ''}`;
  return { found: true, reverts: on, prunes, detail };
}

/** A Flux Kustomization or HelmRelease: it applies on every interval unless suspended. */
export function fluxPolicy(obj: { spec?: { suspend?: boolean; prune?: boolean; interval?: string } }): OwnerPolicy {
  const suspended = obj.spec?.suspend === true;
  const prunes = !suspended && obj.spec?.prune === true;
  const detail = suspended
    ? 'suspended: it applies nothing until resumed'
    : `applies Git every ${obj.spec?.interval ?? 'interval'} with a forced server-side apply${prunes ? ', and prunes what Git does not name' : ''}`;
  return { found: true, reverts: !suspended, prunes, detail };
}

/** The owner in words: "Argo CD Application checkout (label tracking)". */
export function describeOwner(o: Owner): string {
  return o.tool === 'argocd' ? `Argo CD Application ${o.application} (${o.tracking} tracking)` : `Flux ${o.kind} ${o.namespace}/${o.name}`;
}

/**
 * The refusal when a service is owned and no `gitops` is configured for it: who owns what, what
 * it would do to the deploy, and the two ways out.
 */
export function ownedRefusal(where: string, owned: Array<{ object: string; owner: Owner; policy: OwnerPolicy }>): string {
  const first = owned[0]!;
  const objects = owned.map((o) => o.object).join(', ');
  const effect = owned.some((o) => o.policy.reverts || !o.policy.found)
    ? `it would put back what Shipbot changes (a traffic switch flipped back, a rollback undone)${owned.some((o) => o.policy.prunes) ? ' and prune the canary or idle colour' : ''}, and after a success Git would still name the old version`
    : 'Git would still name the old version after a success, so its next sync would roll production back';
  const how = first.policy.found
    ? first.policy.detail
    : `its policy could not be read (${first.policy.detail}), so Shipbot assumes the worst`;
  const out =
    first.owner.tool === 'argocd'
      ? `remove them from the Application's sources (or turn its auto-sync off while you deploy by hand)`
      : `annotate them \`${FLUX_RECONCILE_ANNOTATION}: disabled\` (or suspend the ${first.owner.kind})`;
  return `${where} is managed by ${describeOwner(first.owner)} (${objects}): ${how}. Deploying past it, ${effect}. Nothing was changed. Release it through Git (this Shipbot cannot yet suspend the owner and commit the release for you), or take these objects out of the reconciler: ${out}.`;
}

/** For the proposal: what happens to an environment a reconciler owns (`gitops` configured). */
export function gitopsPlanNote(service: string, environment: string, g: GitopsConfig | undefined): string | undefined {
  if (!g) return undefined;
  return `🔁 ${service} in ${environment} is applied from Git by ${describeGitopsOwner(g)}: Shipbot pauses it, deploys, commits the release to \`${g.git.path}\` on ${g.git.branch}, then resumes it.`;
}

/** The owner a `gitops` configuration names, in words: "Argo CD Application argocd/shop". */
export function describeGitopsOwner(g: GitopsConfig): string {
  if (g.argocd) return `Argo CD Application ${g.argocd.namespace}/${g.argocd.application}`;
  const f = g.flux!;
  return `Flux ${f.kustomization ? 'Kustomization' : 'HelmRelease'} ${f.namespace}/${f.kustomization ?? f.helmRelease}`;
}
