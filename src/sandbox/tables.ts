// Server-side printing: the meta.k8s.io/v1 Table kubectl asks for (`Accept: …;as=Table`), with
// the columns a real API server prints. Ages use the sandbox clock, so a fast clock reads right.
import type { KObject } from './objects.js';
import type { ResourceDef } from './resources.js';
import { formatSelector, fromLabelSelector } from './selectors.js';

type Col = { name: string; type: string; format?: string; description: string; priority: number };
type Printer = { columns: Col[]; cells: (o: KObject, age: string) => unknown[] };

const col = (name: string, type = 'string', priority = 0, format = ''): Col => ({ name, type, format, description: name, priority });
const NAME = { ...col('Name', 'string', 0, 'name') };
const AGE = col('Age');

/** `5s`, `3m`, `2h`, `4d` — the short form kubectl prints. */
export function shortAge(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

function podStatusText(p: KObject): { ready: string; status: string; restarts: number } {
  const cs: Array<{ ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string } } }> =
    p.status?.containerStatuses ?? [];
  const total = p.spec?.containers?.length ?? cs.length;
  let status: string = p.status?.phase ?? 'Pending';
  for (const c of cs) {
    if (c.state?.waiting?.reason && c.state.waiting.reason !== 'ContainerCreating') status = c.state.waiting.reason;
    else if (c.state?.terminated?.reason) status = c.state.terminated.reason;
    else if (c.state?.waiting?.reason === 'ContainerCreating' && status === 'Pending') status = 'ContainerCreating';
  }
  return { ready: `${cs.filter((c) => c.ready).length}/${total}`, status, restarts: cs.reduce((n, c) => n + (c.restartCount ?? 0), 0) };
}

const images = (o: KObject) => (o.spec?.template?.spec?.containers ?? []).map((c: { image: string }) => c.image).join(',');
const containers = (o: KObject) => (o.spec?.template?.spec?.containers ?? []).map((c: { name: string }) => c.name).join(',');

const PRINTERS: Record<string, Printer> = {
  Deployment: {
    columns: [
      NAME,
      col('Ready'),
      col('Up-to-date', 'integer'),
      col('Available', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, age) => [
      o.metadata.name,
      `${o.status?.readyReplicas ?? 0}/${o.spec?.replicas ?? 0}`,
      o.status?.updatedReplicas ?? 0,
      o.status?.availableReplicas ?? 0,
      age,
      containers(o),
      images(o),
      formatSelector(fromLabelSelector(o.spec?.selector)),
    ],
  },
  ReplicaSet: {
    columns: [
      NAME,
      col('Desired', 'integer'),
      col('Current', 'integer'),
      col('Ready', 'integer'),
      AGE,
      col('Containers', 'string', 1),
      col('Images', 'string', 1),
      col('Selector', 'string', 1),
    ],
    cells: (o, age) => [
      o.metadata.name,
      o.spec?.replicas ?? 0,
      o.status?.replicas ?? 0,
      o.status?.readyReplicas ?? 0,
      age,
      containers(o),
      images(o),
      formatSelector(fromLabelSelector(o.spec?.selector)),
    ],
  },
  // The Rollout CRD's additionalPrinterColumns.
  Rollout: {
    columns: [NAME, col('Desired', 'integer'), col('Current', 'integer'), col('Up-to-date', 'integer'), col('Available', 'integer'), AGE],
    cells: (o, age) => [
      o.metadata.name,
      o.spec?.replicas ?? 1,
      o.status?.replicas ?? 0,
      o.status?.updatedReplicas ?? 0,
      o.status?.availableReplicas ?? 0,
      age,
    ],
  },
  Job: {
    columns: [NAME, col('Status'), col('Completions'), col('Duration'), AGE, col('Containers', 'string', 1), col('Images', 'string', 1)],
    cells: (o, age) => {
      const on = (t: string) =>
        (o.status?.conditions ?? []).some((c: { type: string; status: string }) => c.type === t && c.status === 'True');
      const status = on('Failed') ? 'Failed' : on('Complete') ? 'Complete' : o.spec?.suspend ? 'Suspended' : 'Running';
      const end = o.status?.completionTime ? Date.parse(o.status.completionTime) : undefined;
      const start = o.status?.startTime ? Date.parse(o.status.startTime) : undefined;
      const duration = start !== undefined && end !== undefined ? `${Math.round((end - start) / 1000)}s` : age;
      return [o.metadata.name, status, `${o.status?.succeeded ?? 0}/${o.spec?.completions ?? 1}`, duration, age, containers(o), images(o)];
    },
  },
  Pod: {
    columns: [NAME, col('Ready'), col('Status'), col('Restarts', 'string'), AGE, col('IP', 'string', 1), col('Node', 'string', 1)],
    cells: (o, age) => {
      const s = podStatusText(o);
      return [o.metadata.name, s.ready, s.status, String(s.restarts), age, o.status?.podIP ?? '<none>', o.spec?.nodeName ?? '<none>'];
    },
  },
  Service: {
    columns: [NAME, col('Type'), col('Cluster-IP'), col('External-IP'), col('Port(s)'), AGE, col('Selector', 'string', 1)],
    cells: (o, age) => [
      o.metadata.name,
      o.spec?.type ?? 'ClusterIP',
      o.spec?.clusterIP ?? '<none>',
      '<none>',
      (o.spec?.ports ?? []).map((p: { port: number; protocol?: string }) => `${p.port}/${p.protocol ?? 'TCP'}`).join(','),
      age,
      Object.entries(o.spec?.selector ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(',') || '<none>',
    ],
  },
  Node: {
    columns: [NAME, col('Status'), col('Roles'), AGE, col('Version')],
    cells: (o, age) => [
      o.metadata.name,
      o.status?.conditions?.find((c: { type: string }) => c.type === 'Ready')?.status === 'True' ? 'Ready' : 'NotReady',
      'worker',
      age,
      o.status?.nodeInfo?.kubeletVersion ?? '',
    ],
  },
  Namespace: {
    columns: [NAME, col('Status'), AGE],
    cells: (o, age) => [o.metadata.name, o.status?.phase ?? 'Active', age],
  },
  Event: {
    columns: [col('Last Seen'), col('Type'), col('Reason'), col('Object'), col('Message')],
    cells: (o) => [
      o.lastTimestamp ?? '',
      o.type,
      o.reason,
      `${String((o.involvedObject as { kind?: string })?.kind ?? '').toLowerCase()}/${(o.involvedObject as { name?: string })?.name ?? ''}`,
      o.message,
    ],
  },
  HTTPRoute: {
    columns: [NAME, col('Hostnames'), AGE],
    cells: (o, age) => [o.metadata.name, (o.spec?.hostnames ?? []).join(',') || '', age],
  },
  VirtualService: {
    columns: [NAME, col('Gateways'), col('Hosts'), AGE],
    cells: (o, age) => [o.metadata.name, JSON.stringify(o.spec?.gateways ?? []), JSON.stringify(o.spec?.hosts ?? []), age],
  },
  ConfigMap: {
    columns: [NAME, col('Data', 'integer'), AGE],
    cells: (o, age) => [o.metadata.name, Object.keys((o.data as object) ?? {}).length, age],
  },
};

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept) && /g=meta\.k8s\.io/.test(accept);
}

export function toTable(def: ResourceDef, items: KObject[], now: number, listMeta: Record<string, unknown>): Record<string, unknown> {
  const p = PRINTERS[def.kind] ?? { columns: [NAME, AGE], cells: (o: KObject, age: string) => [o.metadata.name, age] };
  const ageOf = (o: KObject) => shortAge(now - Date.parse(o.metadata.creationTimestamp ?? new Date(now).toISOString()));
  const eventAge = (o: KObject) => (o.lastTimestamp ? shortAge(now - Date.parse(String(o.lastTimestamp))) : '');
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: p.columns,
    rows: items.map((o) => {
      const cells = p.cells(o, ageOf(o));
      if (def.kind === 'Event') cells[0] = eventAge(o);
      return { cells, object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata } };
    }),
  };
}
