// Shared fixtures for the sandbox suites: a sandbox on a fast clock and real
// @kubernetes/client-node clients pointed at it over HTTPS with its token.
import { AppsV1Api, CoreV1Api, KubeConfig, type V1Deployment } from '@kubernetes/client-node';
import { ScaledClock } from '../../src/clock.js';
import { clusterFetch } from '../../src/cluster/http.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';

export interface Fixture {
  sandbox: Sandbox;
  /** fetch() with the sandbox's CA and bearer token (the kubeconfig's credentials). */
  fetch: typeof fetch;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
}

/** Speed 600: pods start in 3 s of sandbox time, ~5 ms of real time. */
export async function startFixture(opts: SandboxOptions = {}): Promise<Fixture> {
  const sandbox = await startSandbox({ clock: new ScaledClock(600), tickMs: 20, ...opts });
  const kc = new KubeConfig();
  kc.loadFromString(sandbox.kubeconfigYaml());
  return { sandbox, fetch: clusterFetch(kc), kc, core: kc.makeApiClient(CoreV1Api), apps: kc.makeApiClient(AppsV1Api) };
}

/** Polls `fn` until it returns a truthy value; fails with the last value seen after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T> | T, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      last = await fn();
      if (last) return last as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end)
      throw new Error(
        `timed out waiting for ${what}; last value: ${last instanceof Error ? last.message : JSON.stringify(last)?.slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The Status body of a failed client-node call (ApiException). */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; reason: string; message: string; kind: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; body?: unknown };
    if (typeof e.code !== 'number') throw err;
    const body = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    return body as { code: number; reason: string; message: string; kind: string };
  }
  throw new Error('expected the call to fail, it succeeded');
}

export function deployment(name: string, image: string, replicas = 4, extra: Partial<V1Deployment['spec']> = {}): V1Deployment {
  const app = name;
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels: { app } },
    spec: {
      replicas,
      selector: { matchLabels: { app, track: 'stable' } },
      template: {
        metadata: { labels: { app, track: 'stable', version: image.split(':').pop()! } },
        spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 8080 }] }] },
      },
      ...extra,
    },
  };
}

export async function createNamespace(core: CoreV1Api, name: string): Promise<void> {
  await core.createNamespace({ body: { metadata: { name } } });
}

/** True when the Deployment finished its rollout, as `kubectl rollout status` decides it. */
export function rolledOut(d: V1Deployment): boolean {
  const s = d.status ?? {};
  const want = d.spec?.replicas ?? 1;
  return (
    (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0) &&
    (s.updatedReplicas ?? 0) === want &&
    (s.replicas ?? 0) === want &&
    (s.availableReplicas ?? 0) === want
  );
}
