// Pods a controller makes from its template (a ReplicaSet's, a Job's): a fresh name with the
// owner's prefix, the template's labels and annotations, the owner as controller, and the
// SuccessfulCreate event the real controllers record.
import type { EventRecorder } from './events.js';
import { clone, randomSuffix, type KObject } from './objects.js';
import { resourceByKind } from './resources.js';
import type { ObjectStore } from './store.js';

const PODS = resourceByKind('Pod');

export function createOwnedPod(
  store: ObjectStore,
  events: EventRecorder,
  owner: KObject,
  opts: { apiVersion: string; component: string; nodeName?: string },
): KObject {
  const t = clone(owner.spec.template ?? {});
  let name = '';
  do name = `${owner.metadata.name}-${randomSuffix(5)}`;
  while (store.peek(PODS, owner.metadata.namespace, name));
  const pod = store.create(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        generateName: `${owner.metadata.name}-`,
        namespace: owner.metadata.namespace,
        labels: t.metadata?.labels ?? {},
        ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
        ownerReferences: [
          {
            apiVersion: opts.apiVersion,
            kind: owner.kind,
            name: owner.metadata.name!,
            uid: owner.metadata.uid!,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: { ...t.spec, ...(opts.nodeName ? { nodeName: opts.nodeName } : {}) },
      status: { phase: 'Pending', qosClass: 'BestEffort' },
    },
    true,
  );
  events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`, opts.component);
  return pod;
}
