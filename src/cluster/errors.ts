// Kubernetes failures turned into sentences a person can act on, and the typed outcomes of a
// stage that could not complete. Raw API exceptions never leave src/cluster.
import type { InfraSignal } from '../domain/types.js';

/** What Shipbot was doing when the API failed, e.g. patch deployments.apps checkout in production. */
export interface KubeAction {
  verb: 'get' | 'list' | 'create' | 'update' | 'patch' | 'delete';
  /** Plural resource with its API group, as RBAC names it: `deployments.apps`, `services`, `pods/log`. */
  resource: string;
  namespace?: string;
  name?: string;
}

export class ClusterError extends Error {
  override readonly name = 'ClusterError';
  constructor(
    message: string,
    readonly action: KubeAction,
    /** HTTP status from the API server; undefined when it could not be reached. */
    readonly status: number | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface StatusBody {
  message?: string;
  reason?: string;
}

function statusBody(body: unknown): StatusBody {
  if (body && typeof body === 'object') return body as StatusBody;
  if (typeof body === 'string') {
    try {
      const parsed: unknown = JSON.parse(body);
      if (parsed && typeof parsed === 'object') return parsed as StatusBody;
    } catch {
      return { message: body.slice(0, 200) };
    }
  }
  return {};
}

function where(a: KubeAction): string {
  return a.namespace ? ` in ${a.namespace}` : '';
}

function subject(a: KubeAction): string {
  const kind = a.resource.split('.')[0]!.replace(/s$/, '');
  return a.name ? `${kind} '${a.name}'` : a.resource;
}

/** Network-level failure codes from node-fetch / undici / Node's socket layer. */
function networkCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let i = 0; i < 4 && e && typeof e === 'object'; i++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^E[A-Z_]+$/.test(code)) return code;
    const errno = (e as { errno?: unknown }).errno;
    if (typeof errno === 'string' && /^E[A-Z_]+$/.test(errno)) return errno;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** One sentence saying what failed and what to do next. Pure: used for any error a call threw. */
export function explainKubeError(err: unknown, action: KubeAction, server = 'the API server'): string {
  const code = (err as { code?: unknown })?.code;
  const status = typeof code === 'number' ? code : undefined;
  const verbOn = `${action.verb} ${action.resource}${where(action)}`;
  if (status === undefined) {
    const net = networkCode(err);
    const why = net ?? (err instanceof Error ? err.message.split('\n')[0] : String(err));
    return `Cannot reach the Kubernetes API at ${server} (${why}) while trying to ${verbOn}: check that the cluster is up and KUBECONFIG points at it (or use --sandbox).`;
  }
  const body = statusBody((err as { body?: unknown }).body);
  const detail = body.message ? ` (${body.message})` : '';
  switch (status) {
    case 401:
      return `401 on ${verbOn}: the cluster did not accept Shipbot's credentials — refresh the token in KUBECONFIG or the service account's token.`;
    case 403:
      return `403 on ${verbOn}: Shipbot's service account needs the '${action.verb}' verb on ${action.resource} — see deploy/rbac.yaml.`;
    case 404:
      return `${subject(action)} was not found${where(action)}${detail}: check environments.<env> in data/shipbot.yml matches the cluster, or create it.`;
    case 409:
      return `409 on ${verbOn}: ${subject(action)} was changed by someone else at the same time${detail} — run the step again; it re-reads the current state.`;
    case 422:
      return `The API server rejected ${verbOn} as invalid${detail}: the object in the cluster differs from what Shipbot expects; check it with kubectl.`;
    case 429:
      return `The API server is throttling Shipbot (429 on ${verbOn}): wait a moment and retry.`;
    default:
      if (status >= 500)
        return `The API server failed with ${status} on ${verbOn}${detail}: it may be overloaded or restarting — retry in a moment.`;
      return `${status} on ${verbOn}${detail}.`;
  }
}

/** Runs one API call; any failure becomes a ClusterError with a readable message. */
export async function kubeCall<T>(action: KubeAction, server: string, fn: () => Promise<T>): Promise<T> {
  try {
    // A read whose connection was cut before the answer (a kept-alive socket the API server had
    // just closed) is asked once more; a write is not, as it may have landed: the step retries it.
    return await fn().catch((err) => (isRead(action) && connectionCut(err) ? fn() : Promise.reject(err)));
  } catch (err) {
    if (err instanceof ClusterError) throw err;
    const code = (err as { code?: unknown })?.code;
    throw new ClusterError(explainKubeError(err, action, server), action, typeof code === 'number' ? code : undefined, { cause: err });
  }
}

const isRead = (a: KubeAction) => a.verb === 'get' || a.verb === 'list';

/** The connection closed or reset under a request, before any answer. */
export function connectionCut(err: unknown): boolean {
  const codes = [err, (err as { cause?: unknown })?.cause].map((e) => (e as { code?: unknown })?.code);
  return codes.some((c) => c === 'ECONNRESET' || c === 'EPIPE' || c === 'UND_ERR_SOCKET');
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ClusterError && err.status === 404;
}

/** A create answered 409: the object exists already (another attempt's request landed first). */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof ClusterError && err.status === 409 && err.action.verb === 'create';
}

/**
 * Creates an object; when the create is answered 409 (an earlier attempt's create, a crashed
 * process's still on the wire, landed first), reads the one that is there instead, so the
 * caller converges it like any object it found.
 */
export async function createOrRead<T>(create: () => Promise<T>, read: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    return read();
  }
}

/**
 * A stage that cannot complete: a fatal health signal (crash loop, OOM, image pull, progress
 * deadline) or the wait ran out. The runner decides what to do (usually roll back).
 */
export class StageFailedError extends Error {
  override readonly name = 'StageFailedError';
  constructor(
    message: string,
    readonly reason: 'signal' | 'timeout',
    readonly signals: InfraSignal[],
  ) {
    super(message);
  }
}

/** A deploy request the executor refuses before touching the cluster (bad tag, wrong strategy). */
export class InvalidRolloutError extends Error {
  override readonly name = 'InvalidRolloutError';
}

/** A traffic route Shipbot cannot split, or whose gateway did not take a change in time. */
export class RouteError extends Error {
  override readonly name = 'RouteError';
}
