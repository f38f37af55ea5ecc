// The ReplicaSet controller: keeps `spec.replicas` pods matching the template (creating and
// deleting like the real one: not-ready and newest pods go first) and reports ready/available.
import type { Clock } from '../clock.js';
import type { EventRecorder } from './events.js';
import { controllerOf, deepEqual, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import { createOwnedPod } from './ownedPods.js';
import type { ObjectStore } from './store.js';

const REPLICASETS = resourceByKind('ReplicaSet');
const PODS = resourceByKind('Pod');
const NODES = resourceByKind('Node');

export function isPodReady(p: KObject): boolean {
  return !!p.status?.conditions?.some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
}

/** Time (ms) the pod became Ready, from its Ready condition. */
export function readySince(p: KObject): number {
  const c = p.status?.conditions?.find((x: { type: string }) => x.type === 'Ready');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

export class ReplicaSetController {
  private nextNode = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly events: EventRecorder,
    private readonly clock: Clock,
  ) {}

  syncAll(): void {
    const podsByOwner = new Map<string, KObject[]>();
    for (const p of this.store.list(PODS)) {
      const owner = controllerOf(p);
      if (owner?.kind !== 'ReplicaSet') continue;
      const list = podsByOwner.get(owner.uid) ?? [];
      list.push(p);
      podsByOwner.set(owner.uid, list);
    }
    for (const rs of this.store.list(REPLICASETS)) this.sync(rs, podsByOwner.get(rs.metadata.uid!) ?? []);
    // Pods whose ReplicaSet is gone are garbage-collected.
    const live = new Set(this.store.list(REPLICASETS).map((rs) => rs.metadata.uid));
    for (const [uid, pods] of podsByOwner) if (!live.has(uid)) for (const p of pods) this.deletePod(p);
  }

  private sync(rs: KObject, podsIn: KObject[]): void {
    let pods = podsIn;
    const want: number = rs.spec.replicas ?? 0;
    if (pods.length < want) {
      for (let i = pods.length; i < want; i++) pods.push(this.createPod(rs));
    } else if (pods.length > want) {
      const victims = [...pods].sort(deletionOrder).slice(0, pods.length - want);
      for (const p of victims) {
        this.deletePod(p);
        this.events.record(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${p.metadata.name}`, 'replicaset-controller');
      }
      pods = pods.filter((p) => !victims.includes(p));
    }
    const minReadyMs = (rs.spec.minReadySeconds ?? 0) * 1000;
    const now = this.clock.now();
    const ready = pods.filter(isPodReady);
    const status: Record<string, unknown> = {
      replicas: pods.length,
      fullyLabeledReplicas: pods.length,
      readyReplicas: ready.length,
      availableReplicas: ready.filter((p) => now - readySince(p) >= minReadyMs).length,
      observedGeneration: rs.metadata.generation,
    };
    for (const k of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (status[k] === 0) delete status[k];
    const current = this.store.peek(REPLICASETS, rs.metadata.namespace, rs.metadata.name!)!;
    if (deepEqual(current.status, status)) return;
    this.store.update(REPLICASETS, { ...current, status }, undefined, true);
  }

  private createPod(rs: KObject): KObject {
    const nodes = this.store.list(NODES);
    const node = nodes.length ? nodes[this.nextNode++ % nodes.length]!.metadata.name : undefined;
    return createOwnedPod(this.store, this.events, rs, {
      apiVersion: 'apps/v1',
      component: 'replicaset-controller',
      ...(node ? { nodeName: node } : {}),
    });
  }

  private deletePod(p: KObject): void {
    if (!this.store.peek(PODS, p.metadata.namespace, p.metadata.name!)) return;
    const gone = this.store.delete(PODS, p.metadata.namespace, p.metadata.name!);
    for (const c of gone.spec?.containers ?? []) {
      this.events.record(gone, 'Normal', 'Killing', `Stopping container ${c.name}`, 'kubelet', undefined, `spec.containers{${c.name}}`);
    }
  }
}

/** The real controller's preference: pending before running, not-ready before ready, newest first. */
function deletionOrder(a: KObject, b: KObject): number {
  const rank = (p: KObject) => (p.status?.phase === 'Pending' ? 0 : isPodReady(p) ? 2 : 1);
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  const restarts = (p: KObject) =>
    (p.status?.containerStatuses ?? []).reduce((s: number, c: { restartCount?: number }) => s + (c.restartCount ?? 0), 0);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const ka = `${a.metadata.creationTimestamp ?? ''}|${a.metadata.name}`;
  const kb = `${b.metadata.creationTimestamp ?? ''}|${b.metadata.name}`;
  return ka === kb ? 0 : ka < kb ? 1 : -1;
}
