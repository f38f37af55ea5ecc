// Waiting for a Deployment the way `kubectl rollout status` does, but never forever: the wait
// ends on ready, on a fatal health signal of the pods being rolled out, or on timeout.
import type { V1Deployment } from '@kubernetes/client-node';
import type { Clock } from '../clock.js';
import type { InfraSignal } from '../domain/types.js';
import type { ClusterApi } from './api.js';
import { fatalSignals, podSignals, rolloutStatus, selectorText } from './rules.js';

export type WaitResult =
  | { ok: true; message: string; deployment: V1Deployment }
  | { ok: false; reason: 'signal'; signals: InfraSignal[]; message: string }
  | { ok: false; reason: 'timeout'; message: string };

export interface WaitOptions {
  clock: Clock;
  signal?: AbortSignal;
  /** Clock milliseconds before giving up. */
  timeoutMs: number;
  /** Clock milliseconds between polls. */
  pollMs: number;
  /** Container whose image identifies the pods being rolled out. */
  container: string;
}

export function templateImage(d: V1Deployment, container: string): string | undefined {
  return d.spec?.template.spec?.containers.find((c) => c.name === container)?.image;
}

/** Health signals of the pods of `d` that run its current template image. */
export async function rolloutSignals(api: ClusterApi, d: V1Deployment, container: string, nowMs: number): Promise<InfraSignal[]> {
  const ns = d.metadata?.namespace ?? 'default';
  const labels = d.spec?.selector.matchLabels ?? {};
  const image = templateImage(d, container);
  const pods = (await api.listPods(ns, selectorText(labels))).filter(
    (p) => p.spec?.containers.find((c) => c.name === container)?.image === image,
  );
  return podSignals(pods, nowMs, d);
}

export async function waitForRollout(api: ClusterApi, namespace: string, name: string, opts: WaitOptions): Promise<WaitResult> {
  const deadline = opts.clock.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    opts.signal?.throwIfAborted();
    const d = await api.getDeployment(namespace, name);
    const status = rolloutStatus(d);
    if (status.done) return { ok: true, message: status.message, deployment: d };
    last = status.message;
    const fatal = fatalSignals(await rolloutSignals(api, d, opts.container, opts.clock.now()));
    if (fatal.length > 0) return { ok: false, reason: 'signal', signals: fatal, message: status.failed ?? status.message };
    if (opts.clock.now() >= deadline) {
      return {
        ok: false,
        reason: 'timeout',
        message: `${name} in ${namespace} was not ready after ${Math.round(opts.timeoutMs / 1000)}s: ${last}`,
      };
    }
    await opts.clock.sleep(opts.pollMs, opts.signal);
  }
}
