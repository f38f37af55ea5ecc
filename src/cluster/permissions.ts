// Every API call src/cluster makes, as RBAC names it. deploy/rbac.yaml must grant each one;
// test/cluster/rbac.test.ts keeps the two in step.
export interface Permission {
  group: string;
  resource: string;
  verb: string;
  clusterScoped?: boolean;
}

export const REQUIRED_PERMISSIONS: Permission[] = [
  { group: 'apps', resource: 'deployments', verb: 'get' },
  { group: 'apps', resource: 'deployments', verb: 'create' },
  { group: 'apps', resource: 'deployments', verb: 'patch' },
  { group: 'apps', resource: 'replicasets', verb: 'list' },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verb: 'list' },
  { group: 'autoscaling', resource: 'horizontalpodautoscalers', verb: 'patch' },
  { group: '', resource: 'services', verb: 'get' },
  { group: '', resource: 'services', verb: 'create' },
  { group: '', resource: 'services', verb: 'patch' },
  { group: '', resource: 'services/proxy', verb: 'get' },
  { group: '', resource: 'pods', verb: 'list' },
  { group: '', resource: 'pods/log', verb: 'get' },
  { group: '', resource: 'events', verb: 'list' },
  { group: '', resource: 'nodes', verb: 'list', clusterScoped: true },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verb: 'get' },
  { group: 'gateway.networking.k8s.io', resource: 'httproutes', verb: 'patch' },
  { group: 'networking.istio.io', resource: 'virtualservices', verb: 'get' },
  { group: 'networking.istio.io', resource: 'virtualservices', verb: 'patch' },
  { group: 'batch', resource: 'jobs', verb: 'get' },
  { group: 'batch', resource: 'jobs', verb: 'create' },
  { group: 'batch', resource: 'jobs', verb: 'delete' },
  // The other writers (ownership.ts reads their policy; owner-control.ts pauses and resumes the
  // one `gitops` names), granted by deploy/gitops-rbac.yaml.
  { group: 'argoproj.io', resource: 'applications', verb: 'get' },
  { group: 'argoproj.io', resource: 'applications', verb: 'patch' },
  { group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', verb: 'get' },
  { group: 'kustomize.toolkit.fluxcd.io', resource: 'kustomizations', verb: 'patch' },
  { group: 'helm.toolkit.fluxcd.io', resource: 'helmreleases', verb: 'get' },
  { group: 'helm.toolkit.fluxcd.io', resource: 'helmreleases', verb: 'patch' },
  // Argo Rollouts (argo-rollout.ts), granted in deploy/rbac.yaml: read the Rollout, set
  // the image (a full update, as `kubectl argo rollouts set image`), pause/promote (spec) and
  // abort/promote/retry (status).
  { group: 'argoproj.io', resource: 'rollouts', verb: 'get' },
  { group: 'argoproj.io', resource: 'rollouts', verb: 'update' },
  { group: 'argoproj.io', resource: 'rollouts', verb: 'patch' },
  { group: 'argoproj.io', resource: 'rollouts/status', verb: 'patch' },
  { group: 'argoproj.io', resource: 'analysisruns', verb: 'list' },
];
