// The resource types the sandbox serves and the discovery documents that describe them, so
// kubectl and @kubernetes/client-node find them as on a real cluster.

export interface ResourceDef {
  /** '' for the core group. */
  group: string;
  version: string;
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served besides the object itself. */
  subresources: Array<'status' | 'scale' | 'proxy'>;
  /** Objects whose `spec` changes bump `metadata.generation`. */
  hasSpec: boolean;
  /** A custom resource (a CRD's): no strategic merge patch, as on a real API server. */
  custom?: boolean;
  categories?: string[];
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDef[] = [
  {
    group: '',
    version: 'v1',
    kind: 'Namespace',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    shortNames: ['ns'],
    subresources: ['status'],
    hasSpec: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Node',
    plural: 'nodes',
    singular: 'node',
    namespaced: false,
    shortNames: ['no'],
    subresources: ['status'],
    hasSpec: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Pod',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    subresources: ['status', 'proxy'],
    hasSpec: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Service',
    plural: 'services',
    singular: 'service',
    namespaced: true,
    shortNames: ['svc'],
    subresources: ['status', 'proxy'],
    hasSpec: true,
  },
  {
    group: '',
    version: 'v1',
    kind: 'Event',
    plural: 'events',
    singular: 'event',
    namespaced: true,
    shortNames: ['ev'],
    subresources: [],
    hasSpec: false,
  },
  {
    group: '',
    version: 'v1',
    kind: 'ConfigMap',
    plural: 'configmaps',
    singular: 'configmap',
    namespaced: true,
    shortNames: ['cm'],
    subresources: [],
    hasSpec: false,
  },
  // Leader election among Shipbot replicas (ops/leader.ts): stored, as an API server stores it.
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    kind: 'Lease',
    plural: 'leases',
    singular: 'lease',
    namespaced: true,
    shortNames: [],
    subresources: [],
    hasSpec: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'Deployment',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    subresources: ['status', 'scale'],
    hasSpec: true,
  },
  {
    group: 'apps',
    version: 'v1',
    kind: 'ReplicaSet',
    plural: 'replicasets',
    singular: 'replicaset',
    namespaced: true,
    shortNames: ['rs'],
    subresources: ['status', 'scale'],
    hasSpec: true,
  },
  {
    group: 'batch',
    version: 'v1',
    kind: 'Job',
    plural: 'jobs',
    singular: 'job',
    namespaced: true,
    shortNames: [],
    subresources: ['status'],
    hasSpec: true,
  },
  // Stored, not acted on: the sandbox does not autoscale (as a cluster without metrics-server).
  {
    group: 'autoscaling',
    version: 'v2',
    kind: 'HorizontalPodAutoscaler',
    plural: 'horizontalpodautoscalers',
    singular: 'horizontalpodautoscaler',
    namespaced: true,
    shortNames: ['hpa'],
    subresources: ['status'],
    hasSpec: true,
  },
  // As a cluster with the Gateway API and Istio CRDs installed serves them (routes.ts acts on them).
  {
    group: 'gateway.networking.k8s.io',
    version: 'v1',
    kind: 'HTTPRoute',
    plural: 'httproutes',
    singular: 'httproute',
    namespaced: true,
    shortNames: [],
    subresources: ['status'],
    hasSpec: true,
    custom: true,
    categories: ['gateway-api'],
  },
  {
    group: 'networking.istio.io',
    version: 'v1',
    kind: 'VirtualService',
    plural: 'virtualservices',
    singular: 'virtualservice',
    namespaced: true,
    shortNames: ['vs'],
    subresources: ['status'],
    hasSpec: true,
    custom: true,
    categories: ['istio-io', 'networking-istio-io'],
  },
  // The reconcilers' own objects, as a cluster running Argo CD or Flux serves them; the stand-ins
  // in argocd.ts and flux.ts act on them.
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Application',
    plural: 'applications',
    singular: 'application',
    namespaced: true,
    shortNames: ['app', 'apps'],
    subresources: [],
    hasSpec: true,
    custom: true,
    categories: [],
  },
  // Argo Rollouts' CRD (its status and scale subresources); the stand-in is rolloutController.ts.
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'Rollout',
    plural: 'rollouts',
    singular: 'rollout',
    namespaced: true,
    shortNames: ['ro'],
    subresources: ['status', 'scale'],
    hasSpec: true,
    custom: true,
    categories: [],
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'AnalysisTemplate',
    plural: 'analysistemplates',
    singular: 'analysistemplate',
    namespaced: true,
    shortNames: [],
    subresources: [],
    hasSpec: true,
    custom: true,
    categories: [],
  },
  {
    group: 'argoproj.io',
    version: 'v1alpha1',
    kind: 'AnalysisRun',
    plural: 'analysisruns',
    singular: 'analysisrun',
    namespaced: true,
    shortNames: ['ar'],
    subresources: ['status'],
    hasSpec: true,
    custom: true,
    categories: [],
  },
  {
    group: 'source.toolkit.fluxcd.io',
    version: 'v1',
    kind: 'GitRepository',
    plural: 'gitrepositories',
    singular: 'gitrepository',
    namespaced: true,
    shortNames: ['gitrepo'],
    subresources: ['status'],
    hasSpec: true,
    custom: true,
    categories: [],
  },
  {
    group: 'kustomize.toolkit.fluxcd.io',
    version: 'v1',
    kind: 'Kustomization',
    plural: 'kustomizations',
    singular: 'kustomization',
    namespaced: true,
    shortNames: ['ks'],
    subresources: ['status'],
    hasSpec: true,
    custom: true,
    categories: [],
  },
];

/** The named API groups the sandbox serves, each at its one version (`apps/v1`, `autoscaling/v2`…). */
export function groupVersions(): Array<{ group: string; version: string }> {
  const seen = new Map<string, string>();
  for (const r of RESOURCES) if (r.group && !seen.has(r.group)) seen.set(r.group, r.version);
  return [...seen].map(([group, version]) => ({ group, version }));
}

export function findResource(group: string, plural: string, version?: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.plural === plural && (version === undefined || r.version === version));
}

export function resourceByKind(kind: string): ResourceDef {
  const r = RESOURCES.find((d) => d.kind === kind);
  if (!r) throw new Error(`sandbox: no resource of kind ${kind}`);
  return r;
}

export function apiVersionOf(r: ResourceDef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-shipbot-sandbox',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

export function apiVersions(serverAddress: string) {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList() {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: groupVersions().map(({ group, version }) => ({
      name: group,
      versions: [{ groupVersion: `${group}/${version}`, version }],
      preferredVersion: { groupVersion: `${group}/${version}`, version },
    })),
  };
}

export function apiGroup(name: string) {
  return apiGroupList().groups.find((g) => g.name === name);
}

export function apiResourceList(group: string) {
  const resources: Array<Record<string, unknown>> = [];
  for (const r of RESOURCES.filter((d) => d.group === group)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...VERBS, ...(r.namespaced ? ['deletecollection'] : [])],
      shortNames: r.shortNames,
      ...(r.categories
        ? { categories: r.categories }
        : r.group === 'apps' || r.kind === 'Pod' || r.kind === 'Service'
          ? { categories: ['all'] }
          : {}),
    });
    for (const sub of r.subresources) {
      if (sub === 'status')
        resources.push({
          name: `${r.plural}/status`,
          singularName: '',
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'patch', 'update'],
        });
      if (sub === 'scale')
        resources.push({
          name: `${r.plural}/scale`,
          singularName: '',
          namespaced: r.namespaced,
          group: 'autoscaling',
          version: 'v1',
          kind: 'Scale',
          verbs: ['get', 'patch', 'update'],
        });
      if (sub === 'proxy' && r.kind === 'Pod')
        resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
      if (sub === 'proxy')
        resources.push({
          name: `${r.plural}/proxy`,
          singularName: '',
          namespaced: r.namespaced,
          kind: `${r.kind}ProxyOptions`,
          verbs: ['create', 'delete', 'get', 'patch', 'update'],
        });
    }
  }
  const version = RESOURCES.find((d) => d.group === group)?.version ?? 'v1';
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : 'v1', resources };
}

/** `api/v1`, `apis/apps/v1`…: how OpenAPI v3 names a group-version's document. */
function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/**
 * GET /openapi/v3: the index of per-group-version documents. kubectl reads it to learn that the
 * server validates fields itself (`fieldValidation` on PATCH), so `kubectl apply` works without
 * `--validate=false`, as against a real API server.
 */
export function openapiV3Root(): { paths: Record<string, { serverRelativeURL: string }> } {
  const gvs = [{ group: '', version: 'v1' }, ...groupVersions()];
  return {
    paths: Object.fromEntries(
      gvs.map(({ group, version }) => [
        gvPath(group, version),
        { serverRelativeURL: `/openapi/v3/${gvPath(group, version)}?hash=sandbox` },
      ]),
    ),
  };
}

/** GET /openapi/v3/<gv>: each resource's paths and operations (no schemas: the sandbox validates on the server). */
export function openapiV3Doc(path: string): Record<string, unknown> | undefined {
  const defs = RESOURCES.filter((r) => gvPath(r.group, r.version) === path);
  if (defs.length === 0) return undefined;
  const fieldValidation = { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } };
  const paths: Record<string, unknown> = {};
  for (const r of defs) {
    const gvk = { group: r.group, version: r.version, kind: r.kind };
    const op = (action: string) => ({
      operationId: `${action}${r.kind}`,
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      parameters: action === 'get' ? [] : [fieldValidation],
      responses: { '200': { description: 'OK' } },
    });
    const base = `/${path}${r.namespaced ? '/namespaces/{namespace}' : ''}/${r.plural}`;
    paths[base] = { get: op('list'), post: op('post') };
    paths[`${base}/{name}`] = { get: op('get'), put: op('put'), patch: op('patch'), delete: op('delete') };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (Shipbot sandbox)', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas: {} },
  };
}
