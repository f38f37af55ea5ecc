// The demo workload (and the nodes every sandbox starts with): namespaces staging and
// production; checkout, payments and search at v1.2.2 with their Services, as in data/shipbot.yml,
// and `web` and `catalog`, ordinary workloads as a team writes them: labelled `app=<name>` only, 2–3 replicas, no
// `track` or `version` label, so nothing can lean on Shipbot's own conventions. `catalog` has the
// HTTPRoute its config names in front of it in production.
import path from 'node:path';
import { loadConfigFile, type ServiceEnvironment, type ShipbotConfig } from '../config.js';
import type { ApiServer } from './apiServer.js';
import type { KObject } from './objects.js';
import { resourceByKind } from './resources.js';

const NAMESPACES = resourceByKind('Namespace');
const NODES = resourceByKind('Node');
const DEPLOYMENTS = resourceByKind('Deployment');
const SERVICES = resourceByKind('Service');
const ROLLOUTS = resourceByKind('Rollout');

export const DEMO_VERSION = 'v1.2.2';
export const DEMO_REPLICAS = { production: 20, staging: 4 } as const;
/** Services seeded as ordinary workloads (`app` label only), at these replica counts. */
export const PLAIN_DEMO: ReadonlyMap<string, { production: number; staging: number }> = new Map([
  ['web', { production: 3, staging: 2 }],
  ['catalog', { production: 3, staging: 2 }],
]);

export interface DemoService {
  name: string;
  image: string;
  /** Labelled `app=<name>` only, as an ordinary workload (see PLAIN_DEMO). */
  plain?: boolean;
  environments: Array<{
    namespace: string;
    deployment: string;
    service: string;
    container: string;
    replicas: number;
    image?: string;
    route?: DemoRoute;
    /** An Argo Rollouts Rollout in place of the Deployment (`rollout` in the config). */
    rollout?: boolean;
  }>;
}

/** A route the team wrote in front of its Service (from trafficRouting in the config). */
export interface DemoRoute {
  kind: 'HTTPRoute' | 'VirtualService';
  name: string;
  /** VirtualService: the name of its http route. */
  httpName?: string;
}

function routeOf(e: ServiceEnvironment): DemoRoute | undefined {
  const r = e.trafficRouting;
  if (!r) return undefined;
  return 'gatewayAPI' in r
    ? { kind: 'HTTPRoute', name: r.gatewayAPI.httpRoute }
    : { kind: 'VirtualService', name: r.istio.virtualService, httpName: r.istio.routes?.[0] };
}

const FALLBACK: DemoService[] = ['checkout', 'payments', 'search'].map((name) => ({
  name,
  image: `registry.example.com/shop/${name}`,
  environments: [
    { namespace: 'staging', deployment: name, service: name, container: 'app', replicas: DEMO_REPLICAS.staging },
    { namespace: 'production', deployment: name, service: name, container: 'app', replicas: DEMO_REPLICAS.production },
  ],
}));

function replicasFor(service: string, env: 'staging' | 'production'): number {
  return PLAIN_DEMO.get(service)?.[env] ?? DEMO_REPLICAS[env];
}

/** Demo services from a config (default: data/shipbot.yml), or the built-in three if it is unreadable. */
export function demoServices(config?: ShipbotConfig): DemoService[] {
  let cfg = config;
  if (!cfg) {
    try {
      cfg = loadConfigFile(path.resolve(process.env.SHIPBOT_CONFIG ?? 'data/shipbot.yml'));
    } catch {
      return FALLBACK;
    }
  }
  return cfg.services.map((s) => ({
    name: s.name,
    image: s.image,
    plain: PLAIN_DEMO.has(s.name),
    environments: (['staging', 'production'] as const)
      .map((env) => ({ env, e: s.environments[env] }))
      .filter((x): x is { env: 'staging' | 'production'; e: NonNullable<typeof x.e> } => !!x.e)
      .map(({ env, e }) => ({
        namespace: e.namespace,
        deployment: e.deployment,
        service: e.service,
        container: e.container,
        replicas: replicasFor(s.name, env),
        image: e.image,
        route: routeOf(e),
        rollout: e.kind === 'Rollout',
      })),
  }));
}

export function seedCluster(api: ApiServer, nodes = 3): void {
  for (const ns of ['default', 'kube-system'])
    ensure(api, NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (let i = 1; i <= nodes; i++) {
    const name = `sandbox-node-${i}`;
    ensure(api, NODES, undefined, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'node-role.kubernetes.io/worker': '' } },
      spec: {},
    });
    const node = api.get(NODES, undefined, name);
    node.status = {
      capacity: { cpu: '16', memory: '64Gi', pods: '250' },
      allocatable: { cpu: '16', memory: '64Gi', pods: '250' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'kubelet is posting ready status',
          lastHeartbeatTime: node.metadata.creationTimestamp,
          lastTransitionTime: node.metadata.creationTimestamp,
        },
      ],
      addresses: [
        { type: 'InternalIP', address: `10.0.0.${10 + i}` },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.0-sandbox',
        containerRuntimeVersion: 'containerd://1.7.0',
        osImage: 'Shipbot sandbox',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    };
    api.replace(NODES, undefined, name, node, 'status');
  }
}

function ensure(api: ApiServer, def: ReturnType<typeof resourceByKind>, ns: string | undefined, obj: KObject): void {
  if (!api.store.peek(def, ns, obj.metadata.name!)) api.create(def, ns, obj);
}

export function demoDeployment(namespace: string, name: string, app: string, container: string, image: string, replicas: number): KObject {
  const labels = { app, track: 'stable', version: DEMO_VERSION };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app, track: 'stable' } },
    spec: {
      replicas,
      selector: { matchLabels: { app, track: 'stable' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      progressDeadlineSeconds: 600,
      revisionHistoryLimit: 10,
      template: {
        metadata: { labels },
        spec: { containers: [{ name: container, image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

/** A Deployment as a team writes it: `app` in its selector and pod labels, nothing else. */
export function plainDeployment(namespace: string, name: string, app: string, container: string, image: string, replicas: number): KObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app } },
    spec: {
      replicas,
      selector: { matchLabels: { app } },
      template: {
        metadata: { labels: { app } },
        spec: { containers: [{ name: container, image, ports: [{ name: 'http', containerPort: 8080 }] }] },
      },
    },
  };
}

/** The canary steps of the demo's Rollouts: a weight, a timed pause, a weight, a pause for a person, then all. */
export const DEMO_ROLLOUT_STEPS = [{ setWeight: 20 }, { pause: { duration: '60s' } }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }];

/** An Argo Rollouts canary Rollout as a team writes it: `app` labels only, its own steps. */
export function demoRollout(namespace: string, name: string, app: string, container: string, image: string, replicas: number): KObject {
  const d = plainDeployment(namespace, name, app, container, image, replicas);
  return {
    ...d,
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    spec: { ...d.spec, strategy: { canary: { steps: DEMO_ROLLOUT_STEPS } } },
  };
}

export function seedDemo(api: ApiServer, services = demoServices()): void {
  for (const s of services) {
    for (const e of s.environments) {
      ensure(api, NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: e.namespace } });
      const make = e.rollout ? demoRollout : s.plain ? plainDeployment : demoDeployment;
      ensure(
        api,
        e.rollout ? ROLLOUTS : DEPLOYMENTS,
        e.namespace,
        make(e.namespace, e.deployment, s.name, e.container, `${e.image ?? s.image}:${DEMO_VERSION}`, e.replicas),
      );
      ensure(api, SERVICES, e.namespace, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: e.service, namespace: e.namespace, labels: { app: s.name } },
        spec: { selector: { app: s.name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      });
      if (e.route) ensure(api, resourceByKind(e.route.kind), e.namespace, demoRoute(e.namespace, e.route, e.service));
    }
  }
}

/** The route as a team writes it: every request for the host to its one Service. */
export function demoRoute(namespace: string, route: DemoRoute, service: string): KObject {
  if (route.kind === 'HTTPRoute') {
    return {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: route.name, namespace, labels: { app: service } },
      spec: {
        parentRefs: [{ name: 'shop-gateway', namespace: 'default' }],
        hostnames: [`${service}.shop.example.com`],
        rules: [{ backendRefs: [{ name: service, port: 80 }] }],
      },
    };
  }
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: route.name, namespace, labels: { app: service } },
    spec: {
      hosts: [service],
      http: [{ ...(route.httpName ? { name: route.httpName } : {}), route: [{ destination: { host: service, port: { number: 80 } } }] }],
    },
  };
}
