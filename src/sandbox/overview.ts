// Read-only summaries for people and scrapers: /sandbox/v1/overview (services, versions per
// track, traffic shares, recent series) and /sandbox/v1/targets (Prometheus HTTP SD).
import type { Clock } from '../clock.js';
import { isPodReady } from './replicaSetController.js';
import { resourceByKind } from './resources.js';
import { userRulesTo, userSplit } from './routes.js';
import { matchesMap } from './selectors.js';
import type { ObjectStore } from './store.js';
import { podIdentity, PREVIEW_ROLE_LABEL, type TrafficSimulator } from './traffic.js';

const PODS = resourceByKind('Pod');
const SERVICES = resourceByKind('Service');

export interface OverviewVersion {
  version: string;
  track: string;
  pods: number;
  readyPods: number;
  /** Share of the Service's traffic these pods get now, percent. */
  trafficPct: number;
  /** Last minutes, one point per minute of the sandbox clock (oldest first). */
  series: Array<{ at: number; requests: number; errorRate: number; p99Ms: number; throughputRps: number }>;
}

export interface OverviewService {
  namespace: string;
  name: string;
  selector: Record<string, string>;
  /** One of Shipbot's preview Services (canary, idle colour): smoke checks only, no users of its own. */
  preview: boolean;
  /** The routes its users take, with each backend's weight and share (percent). */
  routes: Array<{ kind: string; name: string; backends: Array<{ service: string; weight: number; pct: number }> }>;
  versions: OverviewVersion[];
}

export function buildOverview(
  store: ObjectStore,
  traffic: TrafficSimulator,
  clock: Clock,
  points = 10,
): { at: number; speed: number; services: OverviewService[] } {
  const now = clock.now();
  const services: OverviewService[] = [];
  for (const svc of store.list(SERVICES)) {
    const ns = svc.metadata.namespace!;
    const selector: Record<string, string> = svc.spec?.selector ?? {};
    const selected = (sel: Record<string, string> | undefined) => store.list(PODS, ns).filter((p) => matchesMap(sel, p.metadata.labels));
    const groups = new Map<
      string,
      { version: string; track: string; pods: Set<string>; ready: Set<string>; pct: number; service: string }
    >();
    // What its users get: through its routes (by weight), or its own Ready pods evenly. A preview
    // Service has no users of its own: it shows its own pods, whatever routes name it.
    const preview = svc.metadata.labels?.[PREVIEW_ROLE_LABEL] === 'preview';
    const split = preview ? [{ service: svc.metadata.name!, fraction: 1 }] : userSplit(store, ns, svc.metadata.name!);
    for (const { service, fraction } of split) {
      const target = service === svc.metadata.name ? svc : store.peek(SERVICES, ns, service);
      const pods = target ? selected(target.spec?.selector) : [];
      const readyTotal = pods.filter(isPodReady).length;
      for (const p of pods) {
        const id = podIdentity(p);
        const key = `${id.track}|${id.version}`;
        const g = groups.get(key) ?? {
          version: id.version,
          track: id.track,
          pods: new Set(),
          ready: new Set(),
          pct: 0,
          service: id.service,
        };
        g.pods.add(p.metadata.uid!);
        if (isPodReady(p)) {
          g.ready.add(p.metadata.uid!);
          g.pct += (100 * fraction) / readyTotal;
        }
        groups.set(key, g);
      }
    }
    services.push({
      namespace: ns,
      name: svc.metadata.name!,
      selector,
      preview,
      routes: preview ? [] : routesOf(store, ns, svc.metadata.name!),
      versions: [...groups.values()]
        .sort((a, b) => a.track.localeCompare(b.track) || a.version.localeCompare(b.version))
        .map((g) => ({
          version: g.version,
          track: g.track,
          pods: g.pods.size,
          readyPods: g.ready.size,
          trafficPct: Math.round(10 * g.pct) / 10,
          series: Array.from({ length: points }, (_, i) => {
            const at = now - (points - 1 - i) * 60_000;
            const s = traffic.sample({ namespace: ns, service: g.service, track: g.track, version: g.version }, 60, at);
            return { at, requests: s.requests, errorRate: s.errorRate, p99Ms: s.p99Ms, throughputRps: s.throughputRps };
          }),
        })),
    });
  }
  return { at: now, speed: clock.speed, services };
}

function routesOf(store: ObjectStore, ns: string, service: string): OverviewService['routes'] {
  return userRulesTo(store, ns, service).map((r) => {
    const total = r.backends.reduce((n, b) => n + b.weight, 0);
    return {
      kind: r.kind,
      name: r.route,
      backends: r.backends.map((b) => ({ ...b, pct: total > 0 ? Math.round((1000 * b.weight) / total) / 10 : 0 })),
    };
  });
}

/** Prometheus HTTP service discovery: one target group per pod, scraped through the API proxy. */
export function buildTargets(store: ObjectStore, address: string): Array<{ targets: string[]; labels: Record<string, string> }> {
  return store
    .list(PODS)
    .filter((p) => p.status?.podIP)
    .map((p) => ({
      targets: [address],
      labels: {
        __metrics_path__: `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}/proxy/metrics`,
        pod: p.metadata.name!,
      },
    }));
}
