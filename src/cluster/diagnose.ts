// Raw facts for Investigate: pod states, restarts, recent Events and log tails of the pods
// that are not ready. Reading only; a part the cluster does not offer (logs) is left empty.
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Diagnostics } from '../domain/run.js';
import { driverContext, TRACK_LABEL, VERSION_LABEL, type DriverDeps } from './common.js';
import { isPodReady, selectorText } from './rules.js';
import type { RolloutState, WorkloadRef } from './types.js';

export type ClusterDiagnostics = Pick<Diagnostics, 'pods' | 'events' | 'logTail'>;

function podReason(p: V1Pod): string | undefined {
  for (const cs of p.status?.containerStatuses ?? []) {
    const r = cs.state?.waiting?.reason ?? cs.state?.terminated?.reason ?? cs.lastState?.terminated?.reason;
    if (r) return r;
  }
  return p.metadata?.deletionTimestamp ? 'Terminating' : undefined;
}

function eventTime(e: CoreV1Event): string {
  const t = e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? new Date(t as unknown as string).toISOString() : '';
}

export async function diagnose(
  deps: DriverDeps,
  ref: WorkloadRef,
  state: RolloutState,
  opts: { maxEvents?: number; logPods?: number; tailLines?: number } = {},
): Promise<ClusterDiagnostics> {
  const ctx = driverContext(deps);
  const service = await ctx.api.getService(ref.namespace, ref.service);
  const selector = { ...(service.spec?.selector ?? {}) };
  delete selector[TRACK_LABEL]; // every track: stable, canary and both colours
  const pods = await ctx.api.listPods(ref.namespace, selectorText(selector));
  const names = new Set(pods.map((p) => p.metadata?.name));
  const prefix = `${ref.deployment}-`;
  const events = (await ctx.api.listEvents(ref.namespace))
    .filter((e) => {
      const n = e.involvedObject?.name ?? '';
      return names.has(n) || n === ref.deployment || n.startsWith(prefix) || n === ref.service;
    })
    .map((e) => ({
      at: eventTime(e),
      reason: e.reason ?? '',
      message: e.message ?? '',
      object: `${e.involvedObject?.kind ?? ''}/${e.involvedObject?.name ?? ''}`,
    }))
    .sort((a, b) => b.at.localeCompare(a.at))
    .slice(0, opts.maxEvents ?? 20);

  const logTail: string[] = [];
  const newImage = state.newImage;
  const suspects = pods
    .filter((p) => !isPodReady(p) || p.spec?.containers.some((c) => c.image === newImage))
    .sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)))
    .slice(0, opts.logPods ?? 3);
  for (const p of suspects) {
    try {
      const text = await ctx.api.readPodLog(ref.namespace, p.metadata!.name!, ref.container, opts.tailLines ?? 20);
      for (const line of text.split('\n').filter(Boolean)) logTail.push(`${p.metadata!.name}: ${line}`);
    } catch {
      // Logs are optional (the sandbox may not serve them; RBAC may not grant pods/log).
    }
  }

  return {
    pods: pods.map((p) => ({
      name: p.metadata?.name ?? '',
      phase: p.status?.phase ?? 'Unknown',
      ready: isPodReady(p),
      restarts: (p.status?.containerStatuses ?? []).reduce((n, cs) => n + (cs.restartCount ?? 0), 0),
      reason: podReason(p),
      version: p.metadata?.labels?.[VERSION_LABEL],
    })),
    events,
    logTail,
  };
}
