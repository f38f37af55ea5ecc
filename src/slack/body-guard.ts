// Bodies Bolt's HTTP receiver would choke on never reach it. A signed `payload=null` (or a JSON
// `null`) made it throw outside its own error handling ("reading 'ssl_check'"), which ended the
// process; here such a request gets a 400 and everything else passes on, already buffered.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bolt's own default limit for a request body. */
const BODY_LIMIT = 10 * 1024 * 1024;

/** Why `text` is not a JSON object, or undefined when it is one. */
function notAnObject(text: string, what: string): string | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? undefined : `${what} is not a JSON object`;
  } catch {
    return `${what} is not JSON`;
  }
}

/** Why a Slack request body cannot be an event, command or interaction; undefined when it can. */
export function bodyProblem(contentType: string, raw: string): string | undefined {
  if (!contentType.includes('application/x-www-form-urlencoded')) return notAnObject(raw, 'the body');
  const payload = new URLSearchParams(raw).get('payload');
  // No payload: a slash command or ssl_check, plain form fields.
  return payload === null ? undefined : notAnObject(payload, 'payload');
}

/**
 * Wraps a receiver's request listener: buffers the body as Bolt expects (`rawBody`), answers 400
 * to a body that is not an object, and turns anything the listener throws into a 500 for that
 * request alone.
 */
export function guardBodies(
  listener: (req: IncomingMessage, res: ServerResponse) => unknown,
  onError: (err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const run = async () => {
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const c of req) {
          size += (c as Buffer).length;
          if (size > BODY_LIMIT) {
            res.writeHead(413).end();
            return;
          }
          chunks.push(c as Buffer);
        }
        const raw = Buffer.concat(chunks);
        const problem = bodyProblem(String(req.headers['content-type'] ?? ''), raw.toString('utf8'));
        if (problem) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(`${problem}\n`);
          return;
        }
        (req as IncomingMessage & { rawBody?: Buffer }).rawBody = raw;
      }
      await listener(req, res);
    };
    run().catch((err: unknown) => {
      onError(err);
      if (!res.headersSent) res.writeHead(500).end();
      else res.end();
    });
  };
}
