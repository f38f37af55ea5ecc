// The sandbox's etcd: objects by resource, one cluster-wide resourceVersion counter, and a
// bounded history of changes that watches replay from and follow. Synchronous and in-memory.
import { Registry } from './registry.js';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { alreadyExists, ApiError, conflict, notFound } from './errors.js';
import { clone, deepEqual, isoSeconds, type KObject } from './objects.js';
import { apiVersionOf, type ResourceDef } from './resources.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  rv: number;
  type: WatchEventType;
  def: ResourceDef;
  /** The object after the change (before it, for DELETED). Never mutated afterwards. */
  object: KObject;
  /** The object before the change, for MODIFIED. */
  previous?: KObject;
}

export type ChangeListener = (c: Change) => void;

const key = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;

export class ObjectStore {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KObject>>();
  /** Ring of recent changes for watch resume; older resourceVersions answer 410 Expired. */
  private readonly history: Change[] = [];
  private readonly listeners = new Set<ChangeListener>();
  /** Sorted snapshots per resource, rebuilt only after a write to that resource. */
  private readonly sorted = new Map<string, KObject[]>();

  /** The images pods pull: tags resolve to digests, and a tag can be re-pointed (registry.ts). */
  readonly registry = new Registry();

  constructor(
    private readonly clock: Clock,
    private readonly historyLimit = 20_000,
  ) {}

  get resourceVersion(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from. */
  get oldestResumable(): number {
    return this.history.length ? this.history[0]!.rv - 1 : this.rv;
  }

  changesSince(rv: number): Change[] {
    // History is sorted by rv: binary search for the first change after rv.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  onChange(fn: ChangeListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private bucket(def: ResourceDef): Map<string, KObject> {
    let b = this.objects.get(def.plural);
    if (!b) this.objects.set(def.plural, (b = new Map()));
    return b;
  }

  /** The stored object itself: callers must not mutate it (use `clone`). */
  peek(def: ResourceDef, ns: string | undefined, name: string): KObject | undefined {
    return this.bucket(def).get(key(def.namespaced ? ns : undefined, name));
  }

  get(def: ResourceDef, ns: string | undefined, name: string): KObject {
    const o = this.peek(def, ns, name);
    if (!o) throw notFound(def.plural, def.group, name, def.kind);
    return o;
  }

  /** Stored objects (not copies), sorted by namespace then name like the API server lists. */
  list(def: ResourceDef, ns?: string): KObject[] {
    let all = this.sorted.get(def.plural);
    if (!all) {
      const b = this.bucket(def);
      const keys = [...b.keys()].sort();
      all = keys.map((k) => b.get(k)!);
      this.sorted.set(def.plural, all);
    }
    return ns && def.namespaced ? all.filter((o) => o.metadata.namespace === ns) : all.slice();
  }

  count(def: ResourceDef): number {
    return this.bucket(def).size;
  }

  private record(type: WatchEventType, def: ResourceDef, object: KObject, previous?: KObject): void {
    this.sorted.delete(def.plural);
    const change: Change = { rv: this.rv, type, def, object, previous };
    this.history.push(change);
    if (this.history.length > this.historyLimit) this.history.splice(0, this.history.length - this.historyLimit);
    for (const l of this.listeners) l(change);
  }

  /** Every stored object by resource plural, and the resourceVersion counter: what a restart needs. */
  snapshot(): { rv: number; objects: Record<string, KObject[]> } {
    return { rv: this.rv, objects: Object.fromEntries([...this.objects].map(([plural, b]) => [plural, [...b.values()]])) };
  }

  /** Loads a snapshot into an empty store, identities and versions as they were (no watch events). */
  restore(snap: { rv: number; objects: Record<string, KObject[]> }, defs: readonly ResourceDef[]): void {
    for (const def of defs) {
      const b = this.bucket(def);
      for (const o of snap.objects[def.plural] ?? [])
        b.set(key(def.namespaced ? o.metadata.namespace : undefined, o.metadata.name!), clone(o));
      this.sorted.delete(def.plural);
    }
    this.rv = Math.max(this.rv, snap.rv);
  }

  /** `fresh`: the caller built `input` for this call and will not touch it again (no copy needed). */
  create(def: ResourceDef, input: KObject, fresh = false): KObject {
    const obj = fresh ? input : clone(input);
    const ns = def.namespaced ? obj.metadata.namespace : undefined;
    const name = obj.metadata.name!;
    const b = this.bucket(def);
    if (b.has(key(ns, name))) throw alreadyExists(def.plural, def.group, name);
    this.rv++;
    obj.apiVersion = apiVersionOf(def);
    obj.kind = def.kind;
    obj.metadata = {
      ...obj.metadata,
      // Admission may have assigned it already (a Job's selector names its own uid).
      uid: obj.metadata.uid ?? randomUUID(),
      resourceVersion: String(this.rv),
      creationTimestamp: isoSeconds(this.clock.now()),
      ...(def.hasSpec || def.kind === 'Pod' ? { generation: 1 } : {}),
    };
    if (!def.namespaced) delete obj.metadata.namespace;
    delete obj.metadata.deletionTimestamp;
    b.set(key(ns, name), obj);
    this.record('ADDED', def, obj);
    return obj;
  }

  /**
   * Replaces an object. `expectRv` (from the client's body) must match, else 409 Conflict.
   * Identity fields are kept; generation goes up when the spec changed. No-op writes keep the rv.
   */
  update(def: ResourceDef, input: KObject, expectRv?: string, fresh = false): KObject {
    const ns = def.namespaced ? input.metadata.namespace : undefined;
    const name = input.metadata.name!;
    const b = this.bucket(def);
    const old = b.get(key(ns, name));
    if (!old) throw notFound(def.plural, def.group, name, def.kind);
    if (expectRv && expectRv !== old.metadata.resourceVersion) throw conflict(def.plural, def.group, name);
    if (input.metadata.uid && input.metadata.uid !== old.metadata.uid) {
      throw new ApiError(
        409,
        'Conflict',
        `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    const obj = fresh ? { ...input } : clone(input);
    obj.apiVersion = old.apiVersion;
    obj.kind = old.kind;
    obj.metadata = {
      ...obj.metadata,
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      resourceVersion: old.metadata.resourceVersion,
      generation: old.metadata.generation,
    };
    if (!def.namespaced) delete obj.metadata.namespace;
    if (old.metadata.generation !== undefined && old.spec !== obj.spec && !deepEqual(old.spec, obj.spec))
      obj.metadata.generation = old.metadata.generation + 1;
    // Fast no-op check; a difference in key order only costs a spurious resourceVersion bump.
    if (JSON.stringify(old) === JSON.stringify(obj)) return old;
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    b.set(key(ns, name), obj);
    this.record('MODIFIED', def, obj, old);
    return obj;
  }

  delete(def: ResourceDef, ns: string | undefined, name: string): KObject {
    const b = this.bucket(def);
    const k = key(def.namespaced ? ns : undefined, name);
    const old = b.get(k);
    if (!old) throw notFound(def.plural, def.group, name, def.kind);
    b.delete(k);
    this.rv++;
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(this.rv) } };
    this.record('DELETED', def, gone);
    return gone;
  }
}
