// The API server's audit log, as far as tests read it: the writes that succeeded, at level
// Request (verb, URI, content type, the body byte for byte, and the client's User-Agent), the
// newest 1000.
import type { IncomingMessage } from 'node:http';

/** One write, as Kubernetes' audit log shows it at level Request: verb, URI, content type and the body as sent. */
export interface AuditEvent {
  verb: 'create' | 'update' | 'patch';
  requestURI: string;
  contentType: string;
  /** The request body, byte for byte. */
  body: string;
  /** The client's User-Agent header, as the real audit log records it (which replica wrote). */
  userAgent: string;
}

/** Request bodies as received, until the write succeeds and is audited. */
export const rawBodies = new WeakMap<IncomingMessage, string>();

export function audited<T>(ctx: { audit: AuditEvent[] }, req: IncomingMessage, verb: AuditEvent['verb'], result: T): T {
  const body = rawBodies.get(req) ?? '';
  const header = (name: string) => String(req.headers[name] ?? '');
  ctx.audit.push({ verb, requestURI: req.url ?? '', contentType: header('content-type'), body, userAgent: header('user-agent') });
  if (ctx.audit.length > 1000) ctx.audit.splice(0, ctx.audit.length - 1000);
  return result;
}
