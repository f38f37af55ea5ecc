// The API server's audit log, as far as tests read it: the writes that succeeded, at level
// Request (verb, URI, content type and the body byte for byte), the newest 1000.
import type { IncomingMessage } from 'node:http';

/** One write, as Kubernetes' audit log shows it at level Request: verb, URI, content type and the body as sent. */
export interface AuditEvent {
  verb: 'create' | 'update' | 'patch';
  requestURI: string;
  contentType: string;
  /** The request body, byte for byte. */
  body: string;
}

/** Request bodies as received, until the write succeeds and is audited. */
export const rawBodies = new WeakMap<IncomingMessage, string>();

export function audited<T>(ctx: { audit: AuditEvent[] }, req: IncomingMessage, verb: AuditEvent['verb'], result: T): T {
  const body = rawBodies.get(req) ?? '';
  ctx.audit.push({ verb, requestURI: req.url ?? '', contentType: String(req.headers['content-type'] ?? ''), body });
  if (ctx.audit.length > 1000) ctx.audit.splice(0, ctx.audit.length - 1000);
  return result;
}
