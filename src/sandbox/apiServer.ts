// The API server's verbs on top of the store: admission, status/scale subresources, list
// filtering and paging, cascading deletes. HTTP framing lives in http.ts; this is the logic.
import { admit } from './admission.js';
import { ApiError, badRequest, conflict, invalid, notFound } from './errors.js';

const conflictFor = (def: ResourceDef, name: string) => conflict(def.plural, def.group, name);
import { clone, controllerOf, type KObject } from './objects.js';
import { applyPatch, PATCH_TYPES } from './patch.js';
import { apiVersionOf, RESOURCES, resourceByKind, type ResourceDef } from './resources.js';
import { formatSelector, fromLabelSelector, matches, matchesFields, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { ObjectStore } from './store.js';

export interface ListOptions {
  labelSelector?: string | null;
  fieldSelector?: string | null;
  limit?: number;
  continue?: string | null;
}

export type Subresource = 'status' | 'scale' | undefined;

const NAMESPACES = resourceByKind('Namespace');

/** Continue tokens carry the last key returned; opaque to clients. */
function encodeContinue(rv: number, lastKey: string): string {
  return Buffer.from(JSON.stringify({ rv, k: lastKey })).toString('base64url');
}
function decodeContinue(token: string): { rv: number; k: string } {
  try {
    const v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv: number; k: string };
    if (typeof v.k !== 'string') throw new Error('bad');
    return v;
  } catch {
    throw badRequest('the provided continue parameter is not valid: start the list again without it');
  }
}

export class ApiServer {
  constructor(readonly store: ObjectStore) {}

  private requireNamespace(def: ResourceDef, ns: string | undefined): void {
    if (!def.namespaced) return;
    if (!ns) throw badRequest(`${def.plural} are namespaced: use /namespaces/{namespace}/${def.plural}`);
    if (!this.store.peek(NAMESPACES, undefined, ns)) throw notFound('namespaces', '', ns, 'Namespace');
  }

  get(def: ResourceDef, ns: string | undefined, name: string, sub?: Subresource): KObject {
    const o = this.store.get(def, ns, name);
    return sub === 'scale' ? toScale(def, o) : clone(o);
  }

  list(
    def: ResourceDef,
    ns: string | undefined,
    opts: ListOptions = {},
  ): { items: KObject[]; resourceVersion: string; continue?: string; remaining?: number } {
    const labels = parseLabelSelector(opts.labelSelector);
    const fields = parseFieldSelector(opts.fieldSelector);
    let all = this.store.list(def, ns).filter((o) => matches(labels, o.metadata.labels) && matchesFields(fields, o));
    const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    if (opts.continue) {
      const { k } = decodeContinue(opts.continue);
      all = all.filter((o) => keyOf(o) > k);
    }
    const rv = String(this.store.resourceVersion);
    const limit = opts.limit && opts.limit > 0 ? opts.limit : undefined;
    if (limit && all.length > limit) {
      const page = all.slice(0, limit);
      return {
        items: page.map(clone),
        resourceVersion: rv,
        continue: encodeContinue(this.store.resourceVersion, keyOf(page[page.length - 1]!)),
        remaining: all.length - limit,
      };
    }
    return { items: all.map(clone), resourceVersion: rv };
  }

  create(def: ResourceDef, ns: string | undefined, body: KObject, dryRun = false): KObject {
    if (!body || typeof body !== 'object' || typeof body.metadata !== 'object')
      throw badRequest(`the body must be a ${def.kind} object with metadata`);
    this.requireNamespace(def, ns);
    const input = clone(body);
    if (def.namespaced) {
      if (input.metadata.namespace && input.metadata.namespace !== ns) {
        throw badRequest(
          `the namespace of the provided object (${input.metadata.namespace}) does not match the namespace sent on the request (${ns})`,
        );
      }
      input.metadata.namespace = ns;
    }
    if (!input.metadata.name && input.metadata.generateName)
      input.metadata.name = `${input.metadata.generateName}${Math.random().toString(36).slice(2, 7)}`;
    if (input.kind && input.kind !== def.kind) throw badRequest(`the body is a ${input.kind}, this endpoint takes ${def.kind}`);
    delete input.metadata.resourceVersion;
    delete input.metadata.uid; // the server's to assign
    const admitted = admit(def, input);
    if (def.kind !== 'Namespace' && def.kind !== 'Event' && def.subresources.includes('status')) admitted.status = initialStatus(def);
    if (dryRun) {
      if (this.store.peek(def, ns, admitted.metadata.name!)) this.store.create(def, admitted); // throws AlreadyExists
      return admitted;
    }
    return clone(this.store.create(def, admitted));
  }

  /** PUT: replaces the object (or only its status / scale), 409 on a stale resourceVersion. */
  /** `dryRun`: everything a write does (admission, conflicts) except storing it. */
  replace(def: ResourceDef, ns: string | undefined, name: string, body: KObject, sub?: Subresource, dryRun = false): KObject {
    if (!body || typeof body !== 'object' || typeof body.metadata !== 'object')
      throw badRequest(`the body must be a ${sub === 'scale' ? 'Scale' : def.kind} object with metadata`);
    const current = this.store.get(def, ns, name);
    if (body.metadata.name && body.metadata.name !== name)
      throw badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    if (sub === 'scale') {
      const replicas = body.spec?.replicas;
      if (typeof replicas !== 'number' || replicas < 0)
        throw invalid('Scale', 'autoscaling', name, [
          { field: 'spec.replicas', message: 'Invalid value: must be greater than or equal to 0' },
        ]);
      const next = clone(current);
      next.spec.replicas = replicas;
      if (dryRun) return toScale(def, this.checkOnly(def, current, next, body.metadata.resourceVersion));
      return toScale(def, this.store.update(def, next, body.metadata.resourceVersion));
    }
    const input = clone(body);
    input.metadata.name = name;
    if (def.namespaced) input.metadata.namespace = ns;
    let next: KObject;
    if (sub === 'status') {
      next = clone(current);
      next.status = input.status;
    } else {
      next = admit(def, input, current);
      // The main resource never writes status when a status subresource exists.
      if (def.subresources.includes('status')) next.status = clone(current.status);
    }
    if (dryRun) return this.checkOnly(def, current, next, body.metadata.resourceVersion);
    return clone(this.store.update(def, next, body.metadata.resourceVersion));
  }

  private checkOnly(def: ResourceDef, current: KObject, next: KObject, expectRv?: string): KObject {
    if (expectRv && expectRv !== current.metadata.resourceVersion) throw conflictFor(def, current.metadata.name!);
    return {
      ...clone(next),
      metadata: {
        ...clone(next.metadata),
        uid: current.metadata.uid,
        resourceVersion: current.metadata.resourceVersion,
        creationTimestamp: current.metadata.creationTimestamp,
      },
    };
  }

  patch(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    contentType: string | undefined,
    patchBody: unknown,
    sub?: Subresource,
    dryRun = false,
  ): KObject {
    const current = this.store.get(def, ns, name);
    const base = sub === 'scale' ? toScale(def, current) : clone(current);
    if (def.custom && (contentType ?? '').toLowerCase().startsWith(PATCH_TYPES.strategic)) {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${PATCH_TYPES.json}, ${PATCH_TYPES.merge}, application/apply-patch+yaml`,
      );
    }
    const patched = applyPatch(contentType, base, patchBody) as KObject;
    if (!patched || typeof patched !== 'object' || typeof patched.metadata !== 'object')
      throw invalid(def.kind, def.group, name, [{ field: 'metadata', message: 'Required value' }]);
    // A resourceVersion in the patch is a precondition, as on a real server.
    const expect = patched.metadata.resourceVersion !== current.metadata.resourceVersion ? patched.metadata.resourceVersion : undefined;
    if (expect) patched.metadata.resourceVersion = expect;
    return this.replace(def, ns, name, patched, sub, dryRun);
  }

  /** Deletes and cascades to dependents (background propagation, done at once). */
  delete(def: ResourceDef, ns: string | undefined, name: string, orphan = false): KObject {
    const gone = this.store.delete(def, ns, name);
    if (orphan) this.orphanDependents(gone.metadata.uid!);
    else this.collectDependents(gone.metadata.uid!);
    if (def.kind === 'Namespace') {
      for (const r of RESOURCES) if (r.namespaced) for (const o of this.store.list(r, name)) this.store.delete(r, name, o.metadata.name!);
    }
    return gone;
  }

  /** Orphan propagation: dependents stay, without the owner reference. */
  private orphanDependents(ownerUid: string): void {
    for (const r of RESOURCES) {
      if (!r.namespaced) continue;
      for (const o of this.store.list(r)) {
        const refs = o.metadata.ownerReferences ?? [];
        if (refs.some((ref) => ref.uid === ownerUid))
          this.store.update(
            r,
            { ...o, metadata: { ...o.metadata, ownerReferences: refs.filter((ref) => ref.uid !== ownerUid) } },
            undefined,
            true,
          );
      }
    }
  }

  /** Garbage collection: objects whose controller owner is gone go too. */
  collectDependents(ownerUid: string): void {
    for (const r of RESOURCES) {
      if (!r.namespaced) continue;
      for (const o of this.store.list(r)) {
        if (o.metadata.ownerReferences?.some((ref) => ref.uid === ownerUid)) {
          if (!this.store.peek(r, o.metadata.namespace, o.metadata.name!)) continue;
          const d = this.store.delete(r, o.metadata.namespace, o.metadata.name!);
          this.collectDependents(d.metadata.uid!);
        }
      }
    }
  }
}

function initialStatus(def: ResourceDef): unknown {
  switch (def.kind) {
    case 'Pod':
      return { phase: 'Pending', qosClass: 'BestEffort' };
    case 'Service':
      return { loadBalancer: {} };
    case 'Deployment':
    case 'ReplicaSet':
      return { replicas: 0 };
    default:
      return {};
  }
}

/** The autoscaling/v1 Scale view of a Deployment or ReplicaSet. */
export function toScale(def: ResourceDef, o: KObject): KObject {
  if (!def.subresources.includes('scale')) throw notFound(`${def.plural}/scale`, def.group, o.metadata.name!, def.kind);
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: o.spec?.replicas ?? 0 },
    status: { replicas: o.status?.replicas ?? 0, selector: formatSelector(fromLabelSelector(o.spec?.selector)) },
  };
}

export function listKind(def: ResourceDef) {
  return { kind: `${def.kind}List`, apiVersion: apiVersionOf(def) };
}

export { ApiError, controllerOf };
