// Access to one Kubernetes API server: a real cluster (KUBECONFIG, in-cluster service account)
// or the sandbox by URL. Everything else in src/cluster talks to the cluster through `Kube`.
import { AppsV1Api, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';

export interface Kube {
  readonly kc: KubeConfig;
  readonly apps: AppsV1Api;
  readonly core: CoreV1Api;
  /** API server base URL without a trailing slash, for messages and service-proxy URLs. */
  readonly server: string;
}

function fromConfig(kc: KubeConfig): Kube {
  const server = (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  return { kc, apps: kc.makeApiClient(AppsV1Api), core: kc.makeApiClient(CoreV1Api), server };
}

/** A sandbox (or any unauthenticated API server) reachable at `server`, e.g. `http://127.0.0.1:41234`. */
export function kubeFromUrl(server: string): Kube {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'sandbox', server, skipTLSVerify: true }],
    users: [{ name: 'sandbox' }],
    contexts: [{ name: 'sandbox', cluster: 'sandbox', user: 'sandbox' }],
    currentContext: 'sandbox',
  });
  return fromConfig(kc);
}

/**
 * The cluster Shipbot runs against outside the sandbox: `KUBECONFIG` when set, the pod's
 * service account when running in a cluster, otherwise ~/.kube/config.
 */
export function kubeFromEnv(env: { KUBECONFIG?: string } = process.env): Kube {
  const kc = new KubeConfig();
  if (env.KUBECONFIG) kc.loadFromFile(env.KUBECONFIG);
  else if (process.env.KUBERNETES_SERVICE_HOST) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) {
    throw new Error('No Kubernetes cluster configured: set KUBECONFIG, run Shipbot in a pod, or use --sandbox.');
  }
  return fromConfig(kc);
}

/** Request options that send a body as a JSON merge patch (client-node defaults to JSON Patch). */
export const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
/** Request options that send a body as a JSON Patch (RFC 6902) list of operations. */
export const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
