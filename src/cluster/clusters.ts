// Several clusters, one per kubeconfig context: `environments.<env>.context` names where that
// environment lives (staging and production may be in different clusters). Clients are made
// once per context; the default context is the kubeconfig's current one.
import { kubeFromEnv, type Kube } from './kube.js';
import { guardWrites, type Leadership } from './write-guard.js';

export interface Clusters {
  /** The client for `context` (undefined: the default context). Throws for an unknown context. */
  kube(context?: string): Kube;
  /** The contexts whose clients were made so far (for readiness and preflight). */
  known(): Kube[];
  /**
   * fetch() with the credentials of the cluster a URL belongs to (a service-proxy URL of one
   * of the clusters); any other URL (an in-cluster Service URL) goes out as a plain fetch.
   */
  fetch: typeof fetch;
}

export function createClusters(make: (context?: string) => Kube): Clusters {
  const byContext = new Map<string, Kube>();
  const kube = (context?: string): Kube => {
    const key = context ?? '';
    let k = byContext.get(key);
    if (!k) byContext.set(key, (k = make(context)));
    return k;
  };
  const owner = (url: string): Kube | undefined =>
    [...byContext.values()].find((k) => k.server && (url === k.server || url.startsWith(`${k.server}/`)));
  return {
    kube,
    known: () => [...new Set(byContext.values())],
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const k = owner(url);
      return k ? k.fetch(input, init) : fetch(input, init);
    }) as typeof fetch,
  };
}

/**
 * The clusters of a kubeconfig (KUBECONFIG, merged; the pod's service account; ~/.kube/config),
 * with every context in `contexts` resolved now: a typo in a context fails at start, not at
 * the first deploy.
 */
export function kubeconfigClusters(
  env: { KUBECONFIG?: string },
  contexts: Iterable<string | undefined>,
  /** With replicas: this one; a write while it does not lead is refused (write-guard.ts). */
  replica?: Leadership,
): Clusters {
  const clusters = createClusters((context) => {
    const kube = kubeFromEnv(env, context);
    return replica ? guardWrites(kube, replica) : kube;
  });
  for (const c of contexts) clusters.kube(c);
  return clusters;
}

/** One cluster for every context name (the sandbox, a test): `context` is ignored. */
export function singleCluster(k: Kube): Clusters {
  return createClusters(() => k);
}
