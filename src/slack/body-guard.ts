// The door of HTTP mode. Nothing from outside is parsed before it is known to come from Slack:
// the signature headers are checked before the body is read, the body is read up to a cap that
// fits Slack's payloads, and its HMAC is checked on the raw bytes. Only then is it looked at, and
// a body Bolt's receiver would choke on (a signed `payload=null` made it throw outside its own
// error handling, which ended the process) gets a 400. Everything else passes on, already buffered.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Slack's largest payloads (a view submission with big blocks) stay well under 1 MB. */
export const BODY_LIMIT = 1024 * 1024;
/** Slack's own rule: a request whose timestamp is more than five minutes off is refused. */
export const SKEW_SEC = 5 * 60;

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,12}$/;

/** Why the signature headers cannot be Slack's (checked before any byte of the body is read). */
export function headerProblem(signature: string | undefined, timestamp: string | undefined, nowSec: number): string | undefined {
  if (!signature || !timestamp) return 'the request is not signed';
  if (!SIGNATURE.test(signature)) return 'the signature is malformed';
  if (!TIMESTAMP.test(timestamp)) return 'the timestamp is malformed';
  if (Math.abs(nowSec - Number(timestamp)) > SKEW_SEC) return 'the timestamp is more than five minutes off';
  return undefined;
}

/** True when `signature` is Slack's v0 HMAC of these exact bytes. */
export function signatureMatches(secret: string, timestamp: string, raw: Buffer, signature: string): boolean {
  const mac = createHmac('sha256', secret).update(`v0:${timestamp}:`).update(raw).digest();
  const given = Buffer.from(signature.slice(3), 'hex');
  return given.length === mac.length && timingSafeEqual(given, mac);
}

/** `text` as a JSON object, or why it is not one. */
function asObject(text: string, what: string): Read {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)
      ? { body: parsed as Record<string, unknown> }
      : { problem: `${what} is not a JSON object` };
  } catch {
    return { problem: `${what} is not JSON` };
  }
}

/**
 * A (verified) Slack request body as Bolt reads it (the `payload` of a form, a form's fields, or
 * JSON), or why it cannot be an event, command or interaction.
 */
export function readBody(contentType: string, raw: string): Read {
  if (!contentType.includes('application/x-www-form-urlencoded')) return asObject(raw, 'the body');
  const form = new URLSearchParams(raw);
  const payload = form.get('payload');
  return payload === null ? { body: Object.fromEntries(form) } : asObject(payload, 'payload');
}

export interface GuardOptions {
  signingSecret: string;
  onError: (err: unknown) => void;
  /** Seconds since the epoch; tests move it. */
  nowSec?: () => number;
  /**
   * Answers a verified request of this `type` itself (true), or leaves it to the listener (false).
   * `read` gives its body; a form's payload that opens with its type has not been read yet.
   */
  answer?: (req: IncomingMessage, res: ServerResponse, type: string, read: () => Read) => boolean;
}

/** Answers and closes: the unread rest of the body is discarded as it arrives, never buffered. */
function refuse(req: IncomingMessage, res: ServerResponse, status: number, why: string): void {
  res.writeHead(status, { 'content-type': 'text/plain', connection: 'close' }).end(`${why}\n`);
  req.resume();
}

/** Reads the body up to `limit` bytes; undefined (and nothing more kept) past it. */
async function readCapped(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Leaving the loop early destroys the request: the rest of an oversized body is never read.
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(c as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

// A form's payload that opens with its type, as Slack's interaction payloads do.
const LEADING_TYPE = /^payload=%7B%22type%22%3A%22([a-z_]{1,40})%22/i;

/**
 * The `type` of a form's payload read from its first bytes, without decoding the rest (~100 µs
 * for a 4 KB press), or undefined when it does not open with one.
 */
export function leadingType(contentType: string, raw: string): string | undefined {
  if (!contentType.includes('application/x-www-form-urlencoded')) return undefined;
  return LEADING_TYPE.exec(raw)?.[1]?.toLowerCase();
}

export type Read = { body: Record<string, unknown> } | { problem: string };

/**
 * Wraps a receiver's request listener: POSTs must carry a valid Slack signature over their raw
 * bytes (401 otherwise, 413 past the cap) and be an object (400); verified bodies go on buffered
 * as Bolt expects (`rawBody`). Anything the listener throws becomes a 500 for that request alone.
 */
export function guardBodies(
  listener: (req: IncomingMessage, res: ServerResponse) => unknown,
  opts: GuardOptions,
): (req: IncomingMessage, res: ServerResponse) => void {
  const nowSec = opts.nowSec ?? (() => Math.floor(Date.now() / 1000));
  return (req, res) => {
    const run = async () => {
      if (req.method === 'POST') {
        const signature = header(req, 'x-slack-signature');
        const timestamp = header(req, 'x-slack-request-timestamp');
        const unsigned = headerProblem(signature, timestamp, nowSec());
        if (unsigned) return refuse(req, res, 401, unsigned);
        if (Number(req.headers['content-length'] ?? 0) > BODY_LIMIT) return refuse(req, res, 413, 'the body is too large');
        const raw = await readCapped(req, BODY_LIMIT);
        if (!raw) return refuse(req, res, 413, 'the body is too large');
        if (!signatureMatches(opts.signingSecret, timestamp!, raw, signature!))
          return refuse(req, res, 401, 'the signature does not match');
        const contentType = String(req.headers['content-type'] ?? '');
        const text = raw.toString('utf8');
        const leading = leadingType(contentType, text);
        if (leading && opts.answer?.(req, res, leading, () => readBody(contentType, text))) return;
        const read = readBody(contentType, text);
        if ('problem' in read) return refuse(req, res, 400, read.problem);
        if (!leading && typeof read.body.type === 'string' && opts.answer?.(req, res, read.body.type, () => read)) return;
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      }
      await listener(req, res);
    };
    run().catch((err: unknown) => {
      // Bolt's way of saying no route matched (its own server answers 404 to it).
      if ((err as { code?: string }).code === 'slack_bolt_http_receiver_deferred_request_error') {
        if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
        return;
      }
      opts.onError(err);
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  };
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
