// What the sandbox's pods use and serve beyond requests: cAdvisor-style CPU and memory per
// container (`-memleak` grows memory), active users per pod, and the sandbox's own metrics API.
import type { Clock } from '../clock.js';
import type { MetricSample } from '../domain/types.js';
import { behaviourOf } from './behaviour.js';
import { badRequest } from './errors.js';
import type { KObject } from './objects.js';
import type { ContainerUsage } from './promText.js';
import { podBuild } from './registry.js';
import { isPodReady } from './replicaSetController.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';
import { podIdentity, type TrafficSimulator } from './traffic.js';

export interface UsageContext {
  clock: Clock;
  store: ObjectStore;
  traffic: TrafficSimulator;
}

const PODS = resourceByKind('Pod');

/** MiB a container works in, and how fast `-memleak` grows it (per second it has run, on the sandbox clock). */
const MEMORY_BASE_MIB = 128;
const MEMORY_LEAK_MIB_PER_SEC = 1;
/** CPU seconds per request served, and a running container's idle use per second. */
const CPU_PER_REQUEST_S = 0.002;
const CPU_IDLE_PER_S = 0.005;

/** Each running container's CPU and memory, as the kubelet's cAdvisor would report them. */
export function containerUsage(ctx: UsageContext): ContainerUsage[] {
  const now = ctx.clock.now();
  return ctx.store
    .list(PODS)
    .filter((p) => p.status?.phase === 'Running' && p.status?.startTime)
    .map((p) => {
      const id = podIdentity(p);
      const b = behaviourOf(podBuild(ctx.store.registry, p, id.image));
      const ageSec = Math.max(0, (now - Date.parse(String(p.status!.startTime))) / 1000);
      const c = ctx.traffic.podCounters(p.metadata.uid!);
      // A little per pod, so the pods of one version are not one number.
      const own = (p.metadata.uid!.charCodeAt(0) % 8) * 0.5;
      return {
        namespace: p.metadata.namespace!,
        pod: p.metadata.name!,
        container: p.spec?.containers?.[0]?.name ?? 'app',
        image: id.image,
        cpuSeconds: CPU_PER_REQUEST_S * ((c?.ok ?? 0) + (c?.errors ?? 0)) + CPU_IDLE_PER_S * ageSec,
        memoryBytes: (MEMORY_BASE_MIB + own + (b.memLeak ? MEMORY_LEAK_MIB_PER_SEC * ageSec : 0)) * 1024 * 1024,
      };
    });
}

/** Users active per pod: its track's requests in the last minute, shared by its Ready pods (30 users per request/s). */
export function activeUsers(ctx: UsageContext, pod: KObject): number {
  const id = podIdentity(pod);
  const ns = pod.metadata.namespace!;
  const peers = ctx.store.list(PODS, ns).filter((p) => {
    const o = podIdentity(p);
    return isPodReady(p) && o.service === id.service && o.track === id.track && o.version === id.version;
  }).length;
  const s = ctx.traffic.sample({ namespace: ns, service: id.service, track: id.track, version: id.version }, 60);
  return Math.round((30 * (Number.isFinite(s.throughputRps) ? s.throughputRps : 0)) / Math.max(1, peers));
}

/** The sandbox's own metrics API: one window's sample for a service (and track or version). */
export function sampleFor(ctx: UsageContext, q: URLSearchParams): MetricSample {
  const namespace = q.get('namespace');
  const service = q.get('service');
  if (!namespace || !service)
    throw badRequest(
      'namespace and service are required, e.g. /sandbox/v1/metrics?namespace=production&service=checkout&track=canary&windowSec=60',
    );
  const windowSec = q.get('windowSec') ? Number(q.get('windowSec')) : 60;
  if (!(windowSec > 0)) throw badRequest(`windowSec must be a positive number of seconds, got ${q.get('windowSec')}`);
  ctx.traffic.tick(); // catch up with the clock first
  return ctx.traffic.sample({ namespace, service, track: q.get('track') ?? undefined, version: q.get('version') ?? undefined }, windowSec);
}
