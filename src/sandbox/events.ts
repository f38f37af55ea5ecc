// core/v1 Events as controllers and the kubelet record them: repeats of the same reason and
// message on the same object aggregate into one Event with a count. Old Events are pruned.
import type { Clock } from '../clock.js';
import { isoSeconds, randomSuffix, type KObject } from './objects.js';
import { apiVersionOf, resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const EVENTS = resourceByKind('Event');

export class EventRecorder {
  private readonly byKey = new Map<string, string>();
  private readonly order: Array<{ ns: string; name: string; key: string }> = [];

  constructor(
    private readonly store: ObjectStore,
    private readonly clock: Clock,
    private readonly limit = 5_000,
  ) {}

  record(
    obj: KObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    component: string,
    atMs?: number,
    fieldPath?: string,
  ): void {
    const ns = obj.metadata.namespace ?? 'default';
    const at = isoSeconds(atMs ?? this.clock.now());
    const key = `${obj.metadata.uid}|${reason}|${message}`;
    const existingName = this.byKey.get(key);
    const existing = existingName ? this.store.peek(EVENTS, ns, existingName) : undefined;
    if (existing) {
      this.store.update(EVENTS, { ...existing, count: ((existing.count as number) ?? 1) + 1, lastTimestamp: at }, undefined, true);
      return;
    }
    const name = `${obj.metadata.name}.${randomSuffix(8)}${Date.now().toString(16).slice(-8)}`;
    this.store.create(
      EVENTS,
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name, namespace: ns },
        involvedObject: {
          apiVersion: apiVersionOf(resourceByKind(obj.kind)),
          kind: obj.kind,
          name: obj.metadata.name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: at,
        lastTimestamp: at,
        source: { component },
        reportingComponent: component,
        reportingInstance: '',
      },
      true,
    );
    this.byKey.set(key, name);
    this.order.push({ ns, name, key });
    if (this.order.length > this.limit) {
      const old = this.order.shift()!;
      this.byKey.delete(old.key);
      if (this.store.peek(EVENTS, old.ns, old.name)) this.store.delete(EVENTS, old.ns, old.name);
    }
  }
}
