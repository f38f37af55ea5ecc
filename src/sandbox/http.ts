// HTTP framing of the sandbox: Kubernetes REST paths (discovery, CRUD, watch, proxy) and the
// sandbox's own /sandbox/v1 endpoints. Decisions live in apiServer.ts, workloads elsewhere.
import { type AuditEvent, audited, rawBodies } from './audit.js';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import { listKind, type ApiServer, type Subresource } from './apiServer.js';
import { behaviourOf, completionOf } from './behaviour.js';
import { podBuild } from './registry.js';
import { appLog, migrationLog } from './app-logs.js';
import { recordManager } from './managed-fields.js';
import { isDigest, VERSION_PATTERN } from '../domain/image-ref.js';
import { ApiError, badRequest } from './errors.js';
import type { KObject } from './objects.js';
import { buildOverview, buildTargets } from './overview.js';
import { activeUsers, containerUsage, sampleFor } from './usage.js';
import { PROM_CONTENT_TYPE, cadvisorText, podMetricsText } from './promText.js';
import { isPodReady } from './replicaSetController.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  findResource,
  groupVersions,
  openapiV3Doc,
  openapiV3Root,
  resourceByKind,
  SERVER_VERSION,
  type ResourceDef,
} from './resources.js';
import { matches, matchesFields, matchesMap, parseFieldSelector, parseLabelSelector } from './selectors.js';
import type { Change, ObjectStore } from './store.js';
import { toTable, wantsTable } from './tables.js';
import { podIdentity, type TrafficSimulator } from './traffic.js';

export interface HttpContext {
  api: ApiServer;
  store: ObjectStore;
  traffic: TrafficSimulator;
  clock: Clock;
  logger?: Logger;
  /** `127.0.0.1:PORT` */
  address(): string;
  baseUrl(): string;
  /** Open watch streams, ended on close(). */
  watches: Set<ServerResponse>;
  /** The bearer token every request must carry, as a real API server requires credentials. */
  token: string;
  /** Writes that succeeded, as a real API server's audit log records them at level Request (the newest 1000). */
  audit: AuditEvent[];
}

const PODS = resourceByKind('Pod');
const SERVICES = resourceByKind('Service');
const MAX_BODY = 4 * 1024 * 1024;

function send(res: ServerResponse, code: number, body: unknown, contentType = 'application/json'): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
  res.end(text);
}

function sendError(res: ServerResponse, err: ApiError): void {
  send(res, err.code, err.toStatus());
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'BadRequest', 'request body too large (limit 4 MiB)');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  rawBodies.set(req, text);
  if (!text.trim()) throw badRequest('the request needs a JSON body');
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.includes('yaml')) {
    throw new ApiError(415, 'UnsupportedMediaType', `the sandbox accepts JSON bodies only, got ${type}: send application/json`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw badRequest(`the request body is not valid JSON: ${(e as Error).message}`);
  }
}

/** Constant-time comparison of the request's bearer token with the sandbox's. */
function authorised(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(\S+)$/i.exec(header);
  if (!m) return false;
  const got = Buffer.from(m[1]!);
  const want = Buffer.from(token);
  return got.length === want.length && timingSafeEqual(got, want);
}

export function createHandler(ctx: HttpContext) {
  return (req: IncomingMessage, res: ServerResponse) => {
    // Every path, /version and /sandbox/v1 included: nothing may lean on an open door.
    if (!authorised(req, ctx.token)) {
      req.resume();
      return sendError(res, new ApiError(401, 'Unauthorized', 'Unauthorized'));
    }
    handle(ctx, req, res).catch((err: unknown) => {
      if (err instanceof ApiError) return sendError(res, err);
      ctx.logger?.error({ err }, 'sandbox: request failed');
      if (!res.headersSent) sendError(res, new ApiError(500, 'InternalError', `sandbox internal error: ${(err as Error).message}`));
      else res.end();
    });
  };
}

async function handle(ctx: HttpContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const path = url.pathname.replace(/\/+$/, '') || '/';
  const method = req.method ?? 'GET';
  const q = url.searchParams;

  switch (path) {
    case '/version':
      return send(res, 200, SERVER_VERSION);
    case '/healthz':
    case '/readyz':
    case '/livez':
      return send(res, 200, 'ok', 'text/plain');
    case '/api':
      return send(res, 200, apiVersions(ctx.address()));
    case '/apis':
      return send(res, 200, apiGroupList());
    case '/api/v1':
      return send(res, 200, apiResourceList(''));
    case '/openapi/v3':
      return send(res, 200, openapiV3Root());
    case '/sandbox/v1/metrics':
      return send(res, 200, sampleFor(ctx, q));
    case '/sandbox/v1/overview':
      ctx.traffic.tick();
      return send(res, 200, buildOverview(ctx.store, ctx.traffic, ctx.clock));
    case '/sandbox/v1/targets':
      return send(res, 200, buildTargets(ctx.store, ctx.address()));
    case '/sandbox/v1/cadvisor':
      ctx.traffic.tick();
      return send(res, 200, cadvisorText(containerUsage(ctx)), PROM_CONTENT_TYPE);
    case '/sandbox/v1/registry/tags':
      return retagImage(ctx, method, req, res);
  }

  if (path.startsWith('/openapi/v3/')) {
    const doc = openapiV3Doc(path.slice('/openapi/v3/'.length));
    if (doc) return send(res, 200, doc);
  }
  // Named groups: /apis/<group> (APIGroup), /apis/<group>/<version> (APIResourceList), then objects.
  const named = /^\/apis\/([^/]+)(?:\/([^/]+))?(?:\/(.*))?$/.exec(path);
  const served = named ? groupVersions().find((g) => g.group === named[1]) : undefined;
  if (named && served && !named[2]) return send(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(served.group) });
  if (named && served && named[2] === served.version && !named[3]) return send(res, 200, apiResourceList(served.group));
  let group: string;
  let rest: string[];
  if (path.startsWith('/api/v1/')) {
    group = '';
    rest = path.slice('/api/v1/'.length).split('/');
  } else if (named && served && named[2] === served.version && named[3]) {
    group = served.group;
    rest = named[3].split('/');
  } else {
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);
  }
  rest = rest.map(decodeURIComponent);

  let ns: string | undefined;
  let plural: string;
  let name: string | undefined;
  let sub: string | undefined;
  let tail: string[];
  if (rest[0] === 'namespaces' && rest.length >= 3 && findResource(group, rest[2]!)?.namespaced) {
    [, ns, plural, name, sub] = rest as [string, string, string, string?, string?];
    tail = rest.slice(5);
  } else {
    [plural, name, sub] = rest as [string, string?, string?];
    tail = rest.slice(3);
  }
  const def = findResource(group, plural);
  if (!def) throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${method} ${path})`);

  if (sub === 'proxy' && name) return proxy(ctx, def, ns!, name, `/${tail.join('/')}`, res);
  if (sub === 'log' && name && def === PODS && method === 'GET') return podLog(ctx, ns!, name, res);
  if (sub && sub !== 'status' && sub !== 'scale')
    throw new ApiError(404, 'NotFound', `the server could not find the requested resource (${def.plural}/${sub})`);
  if (sub && !def.subresources.includes(sub as 'status' | 'scale'))
    throw new ApiError(404, 'NotFound', `${def.plural} have no ${sub} subresource`);
  const subres = sub as Subresource;

  if (!name) {
    if (method === 'GET' && (q.get('watch') === 'true' || q.get('watch') === '1')) return watch(ctx, def, ns, q, req, res);
    if (method === 'GET') {
      const out = ctx.api.list(def, ns, {
        labelSelector: q.get('labelSelector'),
        fieldSelector: q.get('fieldSelector'),
        limit: q.get('limit') ? Number(q.get('limit')) : undefined,
        continue: q.get('continue'),
      });
      const metadata = {
        resourceVersion: out.resourceVersion,
        ...(out.continue ? { continue: out.continue, remainingItemCount: out.remaining } : {}),
      };
      if (wantsTable(req.headers.accept)) return send(res, 200, toTable(def, out.items, ctx.clock.now(), metadata));
      return send(res, 200, { ...listKind(def), metadata, items: out.items });
    }
    if (method === 'POST') {
      const body = (await readJson(req)) as KObject;
      const made = audited(ctx, req, 'create', ctx.api.create(def, ns, body, !!q.get('dryRun')));
      return send(res, 201, recordManager(ctx.store, ctx.clock, def, made, q, 'Update'));
    }
    if (method === 'DELETE') {
      const out = ctx.api.list(def, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') });
      for (const o of out.items) ctx.api.delete(def, o.metadata.namespace, o.metadata.name!);
      return send(res, 200, { ...listKind(def), metadata: { resourceVersion: String(ctx.store.resourceVersion) }, items: out.items });
    }
    throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported on a ${def.plural} collection`);
  }

  switch (method) {
    case 'GET': {
      const obj = ctx.api.get(def, ns, name, subres);
      if (!subres && wantsTable(req.headers.accept))
        return send(res, 200, toTable(def, [obj], ctx.clock.now(), { resourceVersion: obj.metadata.resourceVersion }));
      return send(res, 200, obj);
    }
    case 'PUT': {
      const body = (await readJson(req)) as KObject;
      const replaced = audited(ctx, req, 'update', ctx.api.replace(def, ns, name, body, subres, !!q.get('dryRun')));
      return send(res, 200, recordManager(ctx.store, ctx.clock, def, replaced, q, 'Update'));
    }
    case 'PATCH': {
      const type = req.headers['content-type'];
      const body = await readJson(req);
      const out = audited(ctx, req, 'patch', ctx.api.patch(def, ns, name, type, body, subres, !!q.get('dryRun')));
      return send(res, 200, recordManager(ctx.store, ctx.clock, def, out, q, String(type).includes('apply-patch') ? 'Apply' : 'Update'));
    }
    case 'DELETE': {
      // DeleteOptions may come as a body (kubectl sends `{"dryRun":["All"]}` there).
      const text = await readBody(req);
      let opts: { dryRun?: string[]; propagationPolicy?: string } = {};
      try {
        opts = text.trim() ? (JSON.parse(text) as typeof opts) : {};
      } catch {
        throw badRequest('the DeleteOptions body is not valid JSON');
      }
      if (q.get('dryRun') || (Array.isArray(opts.dryRun) && opts.dryRun.length > 0)) return send(res, 200, ctx.api.get(def, ns, name));
      // As the real server: a Job's pods are orphaned unless the client asks for propagation.
      const policy = q.get('propagationPolicy') ?? opts.propagationPolicy ?? (def.kind === 'Job' ? 'Orphan' : 'Background');
      const gone = ctx.api.delete(def, ns, name, policy === 'Orphan');
      if (def.kind === 'Pod') return send(res, 200, gone);
      return send(res, 200, {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Success',
        details: { name, group: def.group, kind: def.plural, uid: gone.metadata.uid },
      });
    }
  }
  throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported on ${def.plural}/${name}`);
}

// ------------------------------------------------------------------------------------------
// Watch

function watch(
  ctx: HttpContext,
  def: ResourceDef,
  ns: string | undefined,
  q: URLSearchParams,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const labels = parseLabelSelector(q.get('labelSelector'));
  const fields = parseFieldSelector(q.get('fieldSelector'));
  const inScope = (o: KObject) => (!ns || o.metadata.namespace === ns) && matches(labels, o.metadata.labels) && matchesFields(fields, o);
  const rvParam = q.get('resourceVersion');

  res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
  // Clients wait for the headers before they consider the watch open.
  res.flushHeaders();
  // kubectl get -w asks for Tables: each event then carries a one-row Table.
  const table = wantsTable(req.headers.accept);
  const write = (type: string, object: KObject | Record<string, unknown>) => {
    const o =
      table && type !== 'ERROR'
        ? toTable(def, [object as KObject], ctx.clock.now(), { resourceVersion: (object as KObject).metadata?.resourceVersion })
        : object;
    res.write(`${JSON.stringify({ type, object: o })}\n`);
  };

  if (rvParam && rvParam !== '0') {
    const from = Number(rvParam);
    if (!Number.isFinite(from) || from < ctx.store.oldestResumable) {
      // What the API server does: a 410 Expired inside the stream, then it ends.
      write('ERROR', new ApiError(410, 'Expired', `too old resource version: ${rvParam} (${ctx.store.oldestResumable})`).toStatus());
      res.end();
      return;
    }
  }

  const deliver = (c: Change) => {
    if (c.def !== def) return;
    const now = inScope(c.object);
    if (c.type === 'ADDED') {
      if (now) write('ADDED', c.object);
    } else if (c.type === 'DELETED') {
      if (now) write('DELETED', c.object);
    } else {
      const before = c.previous ? inScope(c.previous) : now;
      if (now && before) write('MODIFIED', c.object);
      else if (now) write('ADDED', c.object);
      else if (before) write('DELETED', c.object);
    }
  };

  if (rvParam && rvParam !== '0') for (const c of ctx.store.changesSince(Number(rvParam))) deliver(c);
  else for (const o of ctx.store.list(def, ns)) if (inScope(o)) write('ADDED', o);

  const unsubscribe = ctx.store.onChange(deliver);
  ctx.watches.add(res);
  const timeoutSec = Number(q.get('timeoutSeconds') ?? 0);
  const timer = timeoutSec > 0 ? setTimeout(() => res.end(), timeoutSec * 1000) : undefined;
  const stop = () => {
    unsubscribe();
    ctx.watches.delete(res);
    if (timer) clearTimeout(timer);
  };
  req.on('close', stop);
  res.on('close', stop);
}

// ------------------------------------------------------------------------------------------
// Proxy: what the pods behind a Service (or one pod) would answer

let roundRobin = 0;

function proxy(ctx: HttpContext, def: ResourceDef, ns: string, rawName: string, subPath: string, res: ServerResponse): void {
  const name = rawName.split(':')[0]!;
  if (def === SERVICES) {
    const svc = ctx.store.get(SERVICES, ns, name);
    const ready = ctx.store.list(PODS, ns).filter((p) => isPodReady(p) && matchesMap(svc.spec?.selector, p.metadata.labels));
    if (ready.length === 0) throw new ApiError(503, 'ServiceUnavailable', `no endpoints available for service "${name}"`);
    return podAnswer(ctx, ready[roundRobin++ % ready.length]!, subPath, res);
  }
  if (def === PODS) {
    const pod = ctx.store.get(PODS, ns, name);
    const running = (pod.status?.containerStatuses ?? []).some((c: { state?: { running?: unknown } }) => c.state?.running);
    if (!pod.status?.podIP || !running) {
      throw new ApiError(
        503,
        'ServiceUnavailable',
        `error trying to reach service: dial tcp ${pod.status?.podIP ?? '<none>'}:8080: connect: connection refused`,
      );
    }
    return podAnswer(ctx, pod, subPath, res);
  }
  throw new ApiError(404, 'NotFound', `${def.plural} have no proxy subresource`);
}

/**
 * `POST /sandbox/v1/registry/tags {"image":"repo:v1.2.3","like":"v1.2.3-errors"}`: pushes another
 * build under that tag (it behaves like `like`); answers with the tag's new digest.
 */
async function retagImage(ctx: HttpContext, method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (method !== 'POST') throw new ApiError(405, 'MethodNotAllowed', 'POST a JSON body {"image": "repo:tag", "like": "tag"}');
  const body = (await readJson(req)) as { image?: unknown; like?: unknown };
  const image = typeof body.image === 'string' ? body.image : '';
  const like = typeof body.like === 'string' ? body.like : '';
  if (!/^[a-z0-9][a-z0-9._\-/:]*:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(image) || !VERSION_PATTERN.test(like) || isDigest(like))
    throw badRequest('give image as repo:tag and like as the tag whose behaviour the new build has');
  send(res, 200, { image, digest: ctx.store.registry.retag(image, like) });
}

/** What the app would have printed (app-logs.ts): enough for `kubectl logs` while investigating a fault. */
function podLog(ctx: HttpContext, ns: string, name: string, res: ServerResponse): void {
  const pod = ctx.store.get(PODS, ns, name);
  const c = pod.status?.containerStatuses?.[0];
  if (!c?.containerID) {
    const why = c?.state?.waiting?.reason ?? 'ContainerCreating';
    throw badRequest(
      `container "${c?.name ?? 'app'}" in pod "${name}" is waiting to start: ${why === 'ImagePullBackOff' || why === 'ErrImagePull' ? 'trying and failing to pull image' : why}`,
    );
  }
  const id = podIdentity(pod);
  const build = podBuild(ctx.store.registry, pod, id.image);
  const job = pod.spec?.restartPolicy === 'Never' || pod.spec?.restartPolicy === 'OnFailure';
  const lines = job ? migrationLog(id.version, completionOf(build), c) : appLog(id.service, id.version, behaviourOf(build).fault);
  send(res, 200, `${lines.join('\n')}\n`, 'text/plain; charset=utf-8');
}

function podAnswer(ctx: HttpContext, pod: KObject, subPath: string, res: ServerResponse): void {
  const id = podIdentity(pod);
  const b = behaviourOf(podBuild(ctx.store.registry, pod, id.image));
  res.setHeader('X-Sandbox-Pod', pod.metadata.name!);
  res.setHeader('X-Sandbox-Version', id.version);
  switch (subPath) {
    case '/metrics':
      return send(
        res,
        200,
        podMetricsText(
          ctx.traffic.podCounters(pod.metadata.uid!),
          {
            namespace: pod.metadata.namespace!,
            ...id,
            podHash: pod.metadata.labels?.['rollouts-pod-template-hash'] ?? pod.metadata.labels?.['pod-template-hash'],
          },
          { conversionDrop: b.conversionDrop, activeUsers: activeUsers(ctx, pod) },
        ),
        PROM_CONTENT_TYPE,
      );
    case '/health':
    case '/healthz':
      return send(res, 200, 'ok', 'text/plain; charset=utf-8');
    case '/critical-path':
      if (b.fault === 'smokefail')
        return send(res, 500, { ok: false, error: `critical path failed in ${id.version}: checkout total mismatch` });
      return send(res, 200, { ok: true, version: id.version });
    case '/':
      return send(res, 200, { service: id.service, version: id.version, track: id.track, pod: pod.metadata.name });
    default:
      return send(res, 404, `404 page not found: ${subPath}\n`, 'text/plain; charset=utf-8');
  }
}
