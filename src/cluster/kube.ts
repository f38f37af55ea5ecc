// Access to one Kubernetes API server: a real cluster (KUBECONFIG, in-cluster service account,
// ~/.kube/config; any context) or the sandbox through the kubeconfig it writes. Everything else
// in src/cluster talks to the cluster through `Kube`.
import {
  AppsV1Api,
  AutoscalingV2Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
} from '@kubernetes/client-node';
import type { Agent } from 'node:http';
import { clusterFetch } from './http.js';

export interface Kube {
  readonly kc: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  readonly autoscaling: AutoscalingV2Api;
  /** Migration Jobs. */
  readonly batch: BatchV1Api;
  /** Custom resources: Gateway API HTTPRoutes, Istio VirtualServices. */
  readonly custom: CustomObjectsApi;
  /** Leases: which Shipbot replica leads (ops/leader.ts). */
  readonly coordination: CoordinationV1Api;
  /** API server base URL without a trailing slash, for messages and service-proxy URLs. */
  readonly server: string;
  /** The kubeconfig context this client uses. */
  readonly context: string;
  /** fetch() that carries the context's CA, client certificate and token: for service-proxy URLs. */
  readonly fetch: typeof fetch;
}

/**
 * One keep-alive agent per cluster and user for every call, as client-node 2.x does
 * (kubernetes-client/javascript#2893): 1.x builds a new https.Agent for each request, so each
 * call opened a new TLS connection; with a hundred deploys in flight the handshakes alone held
 * the event loop up. Credentials stay per request (the Authorization header, refreshed exec
 * tokens); the agent carries only the cluster's CA and the client certificate, both fixed per
 * cluster and user.
 */
function reuseAgents(kc: KubeConfig): KubeConfig {
  type MakesAgents = { createAgent(cluster: unknown, options: Record<string, unknown>): Agent };
  const inner = kc as unknown as MakesAgents;
  const make = inner.createAgent.bind(kc);
  const agents = new Map<string, Agent>();
  inner.createAgent = (cluster, options) => {
    const key = JSON.stringify([kc.getCurrentCluster()?.name, kc.getCurrentUser()?.name]);
    let agent = agents.get(key);
    if (!agent) agents.set(key, (agent = make(cluster, { ...options, keepAlive: true })));
    return agent;
  };
  return kc;
}

function fromConfig(kc: KubeConfig): Kube {
  if (!kc.getCurrentCluster()) {
    throw new Error('No Kubernetes cluster configured: set KUBECONFIG, run Shipbot in a pod, or use --sandbox.');
  }
  reuseAgents(kc);
  const server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  return {
    kc,
    apps: kc.makeApiClient(AppsV1Api),
    core: kc.makeApiClient(CoreV1Api),
    autoscaling: kc.makeApiClient(AutoscalingV2Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    coordination: kc.makeApiClient(CoordinationV1Api),
    server,
    context: kc.getCurrentContext(),
    fetch: clusterFetch(kc),
  };
}

function useContext(kc: KubeConfig, context: string | undefined): KubeConfig {
  if (!context) return kc;
  if (!kc.getContextObject(context)) {
    const known = kc.getContexts().map((c) => c.name);
    throw new Error(
      `kubeconfig has no context '${context}' (it has: ${known.join(', ') || 'none'}): fix environments.<env>.context in the config or KUBECONFIG.`,
    );
  }
  kc.setCurrentContext(context);
  return kc;
}

/** A client for the kubeconfig in `yaml` (the sandbox's, in tests and local mode), at `context` or its current one. */
export function kubeFromKubeconfig(yaml: string, context?: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromString(yaml);
  return fromConfig(useContext(kc, context));
}

/**
 * The cluster Shipbot runs against outside the sandbox, the way kubectl finds it: every file
 * in a colon-separated `KUBECONFIG` merged, the pod's service account when running in a
 * cluster, otherwise ~/.kube/config. `context` picks one of its contexts.
 */
export function kubeFromEnv(env: { KUBECONFIG?: string } = process.env, context?: string): Kube {
  const kc = new KubeConfig();
  const saved = process.env.KUBECONFIG;
  // loadFromDefault reads process.env; honour the env we were given, then restore.
  if (env.KUBECONFIG !== undefined) process.env.KUBECONFIG = env.KUBECONFIG;
  try {
    kc.loadFromDefault();
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
  return fromConfig(useContext(kc, context));
}

/** Request options that send a body as a JSON merge patch (client-node defaults to JSON Patch). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Request options that send a body as a JSON Patch (RFC 6902) list of operations. */
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
