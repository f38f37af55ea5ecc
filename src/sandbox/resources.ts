// The resource types the sandbox serves and the discovery documents that describe them, so
// kubectl and @kubernetes/client-node find them as on a real cluster.

export interface ResourceDef {
  group: '' | 'apps';
  version: 'v1';
  kind: string;
  plural: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  /** Subresources served besides the object itself. */
  subresources: Array<'status' | 'scale' | 'proxy'>;
  /** Objects whose `spec` changes bump `metadata.generation`. */
  hasSpec: boolean;
}

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', kind: 'Namespace', plural: 'namespaces', singular: 'namespace', namespaced: false, shortNames: ['ns'], subresources: ['status'], hasSpec: true },
  { group: '', version: 'v1', kind: 'Node', plural: 'nodes', singular: 'node', namespaced: false, shortNames: ['no'], subresources: ['status'], hasSpec: true },
  { group: '', version: 'v1', kind: 'Pod', plural: 'pods', singular: 'pod', namespaced: true, shortNames: ['po'], subresources: ['status', 'proxy'], hasSpec: false },
  { group: '', version: 'v1', kind: 'Service', plural: 'services', singular: 'service', namespaced: true, shortNames: ['svc'], subresources: ['status', 'proxy'], hasSpec: true },
  { group: '', version: 'v1', kind: 'Event', plural: 'events', singular: 'event', namespaced: true, shortNames: ['ev'], subresources: [], hasSpec: false },
  { group: '', version: 'v1', kind: 'ConfigMap', plural: 'configmaps', singular: 'configmap', namespaced: true, shortNames: ['cm'], subresources: [], hasSpec: false },
  { group: 'apps', version: 'v1', kind: 'Deployment', plural: 'deployments', singular: 'deployment', namespaced: true, shortNames: ['deploy'], subresources: ['status', 'scale'], hasSpec: true },
  { group: 'apps', version: 'v1', kind: 'ReplicaSet', plural: 'replicasets', singular: 'replicaset', namespaced: true, shortNames: ['rs'], subresources: ['status', 'scale'], hasSpec: true },
];

export function findResource(group: string, plural: string): ResourceDef | undefined {
  return RESOURCES.find((r) => r.group === group && r.plural === plural);
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
    groups: [
      {
        name: 'apps',
        versions: [{ groupVersion: 'apps/v1', version: 'v1' }],
        preferredVersion: { groupVersion: 'apps/v1', version: 'v1' },
      },
    ],
  };
}

export function apiGroup(name: string) {
  return apiGroupList().groups.find((g) => g.name === name);
}

export function apiResourceList(group: '' | 'apps') {
  const resources: Array<Record<string, unknown>> = [];
  for (const r of RESOURCES.filter((d) => d.group === group)) {
    resources.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: [...VERBS, ...(r.namespaced ? ['deletecollection'] : [])],
      shortNames: r.shortNames,
      ...(r.group === 'apps' ? { categories: ['all'] } : r.kind === 'Pod' || r.kind === 'Service' ? { categories: ['all'] } : {}),
    });
    for (const sub of r.subresources) {
      if (sub === 'status') resources.push({ name: `${r.plural}/status`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
      if (sub === 'scale') resources.push({ name: `${r.plural}/scale`, singularName: '', namespaced: r.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
      if (sub === 'proxy' && r.kind === 'Pod') resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
      if (sub === 'proxy') resources.push({ name: `${r.plural}/proxy`, singularName: '', namespaced: r.namespaced, kind: `${r.kind}ProxyOptions`, verbs: ['create', 'delete', 'get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/v1` : 'v1', resources };
}
