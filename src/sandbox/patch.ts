// The three patch types the API server accepts: JSON Patch (RFC 6902), JSON merge patch
// (RFC 7386) and Kubernetes' strategic merge patch. Pure functions over plain JSON.
import { ApiError } from './errors.js';
import { clone, deepEqual, isPlainObject } from './objects.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
} as const;

const patchError = (message: string) => new ApiError(422, 'Invalid', message);

// ------------------------------------------------------------------------------------------
// JSON Patch

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw patchError(`invalid JSON pointer ${JSON.stringify(path)}: it must start with '/'`);
  return path
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function parentOf(doc: unknown, segs: string[], path: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const seg of segs.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isPlainObject(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw patchError(`JSON patch path ${path} does not exist`);
  }
  if (!Array.isArray(cur) && !isPlainObject(cur)) throw patchError(`JSON patch path ${path} does not exist`);
  return { parent: cur, key: segs[segs.length - 1]! };
}

function getAt(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of pointer(path)) {
    if (Array.isArray(cur)) cur = cur[Number(seg)];
    else if (isPlainObject(cur)) cur = cur[seg];
    else cur = undefined;
    if (cur === undefined) throw patchError(`JSON patch path ${path} does not exist`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, path: string, forAdd: boolean): number {
  if (forAdd && key === '-') return arr.length;
  const i = Number(key);
  if (!/^\d+$/.test(key) || i > arr.length || (!forAdd && i === arr.length)) {
    throw patchError(`JSON patch index ${key} out of range at ${path}`);
  }
  return i;
}

function addAt(doc: unknown, path: string, value: unknown): unknown {
  const segs = pointer(path);
  if (segs.length === 0) return value;
  const { parent, key } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, true), 0, value);
  else parent[key] = value;
  return doc;
}

function removeAt(doc: unknown, path: string): unknown {
  const segs = pointer(path);
  if (segs.length === 0) throw patchError('JSON patch cannot remove the whole document');
  const { parent, key } = parentOf(doc, segs, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, path, false), 1);
  else {
    if (!(key in parent)) throw patchError(`JSON patch cannot remove ${path}: it does not exist`);
    delete parent[key];
  }
  return doc;
}

export function applyJsonPatch(original: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new ApiError(400, 'BadRequest', 'a JSON patch must be an array of operations');
  let doc = clone(original);
  for (const raw of ops as JsonPatchOp[]) {
    if (!isPlainObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new ApiError(400, 'BadRequest', `invalid JSON patch operation ${JSON.stringify(raw)}: it needs "op" and "path"`);
    }
    switch (raw.op) {
      case 'add':
        doc = addAt(doc, raw.path, clone(raw.value));
        break;
      case 'remove':
        doc = removeAt(doc, raw.path);
        break;
      case 'replace':
        getAt(doc, raw.path); // must exist
        doc = pointer(raw.path).length === 0 ? clone(raw.value) : addAt(removeAt(doc, raw.path), raw.path, clone(raw.value));
        break;
      case 'move': {
        const v = getAt(doc, raw.from ?? '');
        doc = addAt(removeAt(doc, raw.from ?? ''), raw.path, v);
        break;
      }
      case 'copy':
        doc = addAt(doc, raw.path, clone(getAt(doc, raw.from ?? '')));
        break;
      case 'test':
        if (!deepEqual(getAt(doc, raw.path), raw.value)) throw patchError(`JSON patch test failed at ${raw.path}`);
        break;
      default:
        throw new ApiError(400, 'BadRequest', `unknown JSON patch operation ${JSON.stringify(raw.op)}`);
    }
  }
  return doc;
}

// ------------------------------------------------------------------------------------------
// JSON merge patch

export function applyMergePatch(original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(original) ? clone(original) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

// ------------------------------------------------------------------------------------------
// Strategic merge patch

/**
 * Merge keys of the list fields Kubernetes merges by key (from the `patchMergeKey` tags of the
 * core and apps types). Lists not named here are replaced, as for atomic lists.
 */
const MERGE_KEYS: Record<string, string | ((items: unknown[]) => string)> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  // Container ports merge on containerPort; Service ports on port.
  ports: (items) => (items.some((i) => isPlainObject(i) && 'containerPort' in i) ? 'containerPort' : 'port'),
};
/** Primitive lists that merge as sets. */
const SET_LISTS = new Set(['finalizers']);

function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  const k = MERGE_KEYS[field];
  return typeof k === 'function' ? k(items) : k;
}

export function applyStrategicMergePatch(original: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) throw new ApiError(400, 'BadRequest', 'a strategic merge patch must be a JSON object');
  return mergeMap(isPlainObject(original) ? clone(original) : {}, patch);
}

function mergeMap(orig: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const directive = patch.$patch;
  if (directive === 'replace') {
    const rest = { ...patch };
    delete rest.$patch;
    return clone(rest);
  }
  if (directive === 'delete') return {};
  const out = orig;
  const orders: Record<string, unknown[]> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys') continue;
    if (k.startsWith('$setElementOrder/')) {
      if (Array.isArray(v)) orders[k.slice('$setElementOrder/'.length)] = v;
      continue;
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v))
        out[field] = (out[field] as unknown[]).filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    if (isPlainObject(v)) {
      if (v.$patch === 'delete') delete out[k];
      else out[k] = mergeMap(isPlainObject(out[k]) ? (out[k] as Record<string, unknown>) : {}, v);
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(k, Array.isArray(out[k]) ? (out[k] as unknown[]) : [], v);
      continue;
    }
    out[k] = v;
  }
  if (Array.isArray(patch.$retainKeys)) {
    const keep = new Set(patch.$retainKeys as string[]);
    for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
  }
  for (const [field, order] of Object.entries(orders)) {
    if (Array.isArray(out[field])) out[field] = reorder(field, out[field] as unknown[], order);
  }
  return out;
}

function mergeList(field: string, orig: unknown[], patch: unknown[]): unknown[] {
  // A `{$patch: replace}` element replaces the whole list with the other elements.
  if (patch.some((p) => isPlainObject(p) && p.$patch === 'replace')) {
    return clone(patch.filter((p) => !(isPlainObject(p) && p.$patch === 'replace')));
  }
  if (SET_LISTS.has(field)) {
    const out = [...orig];
    for (const p of patch) if (!out.some((o) => deepEqual(o, p))) out.push(p);
    return out;
  }
  const key = mergeKeyFor(field, [...orig, ...patch]);
  if (!key || !patch.every(isPlainObject)) return clone(patch);
  const out = [...orig] as Array<Record<string, unknown>>;
  for (const item of patch as Array<Record<string, unknown>>) {
    const id = item[key];
    if (id === undefined) throw new ApiError(422, 'Invalid', `strategic merge patch: an element of ${field} has no merge key "${key}"`);
    const at = out.findIndex((o) => isPlainObject(o) && deepEqual(o[key], id));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) out[at] = mergeMap(out[at]!, item);
    else {
      const fresh = { ...item };
      delete fresh.$patch;
      out.push(mergeMap({}, fresh));
    }
  }
  return out;
}

/** `$setElementOrder`: listed elements first, in the given order; unlisted ones keep theirs after. */
function reorder(field: string, list: unknown[], order: unknown[]): unknown[] {
  const key = mergeKeyFor(field, list);
  const idOf = (x: unknown) => (key && isPlainObject(x) ? x[key] : x);
  const ids = order.map(idOf);
  const listed: unknown[] = [];
  for (const id of ids) {
    const found = list.find((x) => deepEqual(idOf(x), id));
    if (found !== undefined) listed.push(found);
  }
  const rest = list.filter((x) => !ids.some((id) => deepEqual(idOf(x), id)));
  return [...listed, ...rest];
}

/** Applies a patch body of the given Content-Type; unknown types are a 415 like the API server's. */
export function applyPatch(contentType: string | undefined, original: unknown, patch: unknown): unknown {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  switch (type) {
    case PATCH_TYPES.json:
      return applyJsonPatch(original, patch);
    case PATCH_TYPES.merge:
      return applyMergePatch(original, patch);
    case PATCH_TYPES.strategic:
      return applyStrategicMergePatch(original, patch);
    default:
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${Object.values(PATCH_TYPES).join(', ')}`,
      );
  }
}
