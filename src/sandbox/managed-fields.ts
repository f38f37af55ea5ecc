// `?fieldManager=NAME` on a write: the object's `metadata.managedFields` names that manager with
// the operation and time, as the API server records it (the field sets themselves are left out).
import type { Clock } from '../clock.js';
import type { KObject } from './objects.js';
import type { ResourceDef } from './resources.js';
import type { ObjectStore } from './store.js';

export function recordManager(
  store: ObjectStore,
  clock: Clock,
  def: ResourceDef,
  out: KObject,
  q: URLSearchParams,
  operation: 'Update' | 'Apply',
): KObject {
  const manager = q.get('fieldManager');
  if (!manager || q.get('dryRun') || out.kind === 'Scale' || !out.metadata?.name) return out;
  const current = store.peek(def, out.metadata.namespace, out.metadata.name);
  if (!current) return out;
  const entry = {
    manager,
    operation,
    apiVersion: def.group ? `${def.group}/${def.version}` : def.version,
    time: new Date(clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    fieldsType: 'FieldsV1',
  };
  const next = structuredClone(current) as KObject;
  const others = ((current.metadata.managedFields as Array<{ manager: string }> | undefined) ?? []).filter((m) => m.manager !== manager);
  next.metadata.managedFields = [...others, entry];
  return structuredClone(store.update(def, next));
}
