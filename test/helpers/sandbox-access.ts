// Reaching a sandbox the way a client reaches a real API server: through the kubeconfig it
// writes (its CA and bearer token). The sandbox answers 401 to anything else.
import { kubeFromKubeconfig, type Kube } from '../../src/cluster/kube.js';
import { SandboxMetricSource, type SandboxMetricOptions } from '../../src/metrics/sandbox.js';
import type { Sandbox } from '../../src/sandbox/index.js';

export function kubeOf(sb: Pick<Sandbox, 'kubeconfigYaml'>): Kube {
  return kubeFromKubeconfig(sb.kubeconfigYaml());
}

/** fetch() with the sandbox's CA and token; `path` may be absolute or start with `/`. */
export function sandboxFetch(sb: Pick<Sandbox, 'kubeconfigYaml' | 'url'>): (path: string, init?: RequestInit) => Promise<Response> {
  const kube = kubeOf(sb);
  return (p, init) => kube.fetch(p.startsWith('/') ? `${sb.url}${p}` : p, init);
}

export function metricsOf(sb: Pick<Sandbox, 'kubeconfigYaml' | 'url'>, opts: SandboxMetricOptions = {}): SandboxMetricSource {
  return new SandboxMetricSource(sb.url, { fetch: kubeOf(sb).fetch, ...opts });
}

/** A client for a plain-HTTP test server at `url` (a fake API server that answers errors). */
export function plainKube(url: string): Kube {
  return kubeFromKubeconfig(
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{ name: fake, cluster: { server: "' + url + '", insecure-skip-tls-verify: true } }]',
      'users: [{ name: fake, user: {} }]',
      'contexts: [{ name: fake, context: { cluster: fake, user: fake } }]',
      'current-context: fake',
    ].join('\n'),
  );
}
