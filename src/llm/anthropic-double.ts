// A local double of the Anthropic Messages API (`POST /v1/messages`) for tests and offline demos.
// Point the SDK's baseURL (ANTHROPIC_BASE_URL) at `double.url`. It answers in the real response
// shape with scripted replies, and can play the faults Shipbot must survive: broken JSON in a
// tool input, 529 overloaded, 500, a reply that never comes. It records every request so tests
// can check what was sent (and that the key only travelled in its header).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedReply =
  /** A tool_use block; `name` defaults to the tool the request forced. */
  | { kind: 'tool'; input: unknown; name?: string; text?: string }
  /** A tool_use block whose input is this raw (broken) JSON text instead of an object. */
  | { kind: 'malformed-tool-json'; raw: string; name?: string }
  /** Only a text block, no tool call. */
  | { kind: 'text'; text: string }
  /** HTTP 200 whose body is not JSON. */
  | { kind: 'malformed-body' }
  /** HTTP 529 `overloaded_error`. */
  | { kind: 'overloaded' }
  /** HTTP 500 `api_error`. */
  | { kind: 'server-error' }
  /** Never answers (until the double closes). */
  | { kind: 'hang' };

export interface RecordedRequest {
  headers: Record<string, string | string[] | undefined>;
  body: {
    model?: string;
    system?: unknown;
    messages?: Array<{ role: string; content: unknown }>;
    tools?: Array<{ name: string; input_schema: unknown }>;
    tool_choice?: { type: string; name?: string };
    [k: string]: unknown;
  };
}

export interface AnthropicDouble {
  /** Base URL for the SDK (no trailing `/v1`). */
  url: string;
  requests: RecordedRequest[];
  /** Queues replies, used one per request in order. */
  script(...replies: ScriptedReply[]): void;
  /** Used when the queue is empty (default: a 500 saying nothing was scripted). */
  setDefault(reply: ScriptedReply | ((req: RecordedRequest) => ScriptedReply)): void;
  /** The user turn of request `i` as text. */
  userText(i: number): string;
  close(): Promise<void>;
}

export interface DoubleOptions {
  /** Only requests carrying this key (x-api-key or Bearer) are served; others get 401 like the real API. */
  apiKey?: string;
  /** Sent as `retry-after-ms` on 529/500 so SDK retries are quick in tests (default 5). */
  retryAfterMs?: number;
  /** Models that answer a forced tool choice (`tool` or `any`) with a 400, as newer Claude models do. */
  rejectForcedToolChoice?: readonly string[];
}

let counter = 0;

/** The SDK sends the key as `x-api-key` (older releases) or `Authorization: Bearer` (1.x). */
export function presentedKey(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
  const apiKey = req.headers['x-api-key'];
  if (typeof apiKey === 'string') return apiKey;
  const auth = req.headers.authorization;
  return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': `req_double_${counter}`, ...headers });
  res.end(text);
}

function errorBody(type: string, message: string) {
  return { type: 'error', error: { type, message }, request_id: `req_double_${++counter}` };
}

function message(model: string, content: unknown[], stopReason: string) {
  return {
    id: `msg_double_${++counter}`,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: 100, output_tokens: 50, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 },
  };
}

export async function startAnthropicDouble(opts: DoubleOptions = {}): Promise<AnthropicDouble> {
  const queue: ScriptedReply[] = [];
  const requests: RecordedRequest[] = [];
  let fallback: ScriptedReply | ((req: RecordedRequest) => ScriptedReply) = { kind: 'server-error' };
  const retryHeaders = { 'retry-after-ms': String(opts.retryAfterMs ?? 5) };

  const server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== '/v1/messages') {
        sendJson(res, 404, errorBody('not_found_error', `${req.method} ${req.url} is not served by this double`));
        return;
      }
      let body: RecordedRequest['body'];
      try {
        body = JSON.parse(await readBody(req)) as RecordedRequest['body'];
      } catch {
        sendJson(res, 400, errorBody('invalid_request_error', 'request body is not JSON'));
        return;
      }
      const recorded: RecordedRequest = { headers: { ...req.headers }, body };
      requests.push(recorded);
      if (opts.apiKey !== undefined && presentedKey(req) !== opts.apiKey) {
        sendJson(res, 401, errorBody('authentication_error', 'invalid API key'));
        return;
      }
      if (!req.headers['anthropic-version']) {
        sendJson(res, 400, errorBody('invalid_request_error', 'anthropic-version header is required'));
        return;
      }
      const model = body.model ?? 'unknown-model';
      const choice = body.tool_choice?.type;
      if ((choice === 'tool' || choice === 'any') && opts.rejectForcedToolChoice?.includes(model)) {
        sendJson(res, 400, errorBody('invalid_request_error', 'tool_choice: type "tool" and "any" are not supported for this model.'));
        return;
      }
      const reply = queue.shift() ?? (typeof fallback === 'function' ? fallback(recorded) : fallback);
      const forced = body.tool_choice?.name ?? body.tools?.[0]?.name ?? 'tool';
      switch (reply.kind) {
        case 'tool': {
          const content: unknown[] = [];
          if (reply.text) content.push({ type: 'text', text: reply.text });
          content.push({ type: 'tool_use', id: `toolu_double_${++counter}`, name: reply.name ?? forced, input: reply.input });
          sendJson(res, 200, message(model, content, 'tool_use'));
          return;
        }
        case 'malformed-tool-json':
          sendJson(
            res,
            200,
            message(
              model,
              [{ type: 'tool_use', id: `toolu_double_${++counter}`, name: reply.name ?? forced, input: reply.raw }],
              'tool_use',
            ),
          );
          return;
        case 'text':
          sendJson(res, 200, message(model, [{ type: 'text', text: reply.text }], 'end_turn'));
          return;
        case 'malformed-body':
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"id":"msg_double","type":"message","content":[{"type":"tool_use",');
          return;
        case 'overloaded':
          sendJson(res, 529, errorBody('overloaded_error', 'Overloaded'), retryHeaders);
          return;
        case 'server-error':
          sendJson(res, 500, errorBody('api_error', 'Internal server error (scripted by the double)'), retryHeaders);
          return;
        case 'hang':
          // Keep the socket open; close() destroys it.
          return;
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody('api_error', String(err)));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => void queue.push(...replies),
    setDefault: (reply) => {
      fallback = reply;
    },
    userText: (i) => {
      const content = requests[i]?.body.messages?.[0]?.content;
      if (typeof content === 'string') return content;
      if (Array.isArray(content)) return content.map((c: { text?: string }) => c.text ?? '').join('\n');
      return '';
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
