// The local workspace: a small HTTP server that puts a Slack-like page in front of the Slack
// double. A person's typing and clicks become the same signed events and interactions Slack
// would send to Shipbot; Shipbot's Web API calls land in the double and reach the page over SSE.
// No framework: node:http, one page of plain HTML/CSS/JS from ./public, a JSON + SSE API.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { ChangeEvent, DoubleMessage, DoubleView, SlackDouble } from '../slack/double/index.js';
import { ApiInput, toSlackText } from './input.js';

/** Someone a demo can act as; `role` is shown next to the name so the permission checks make sense. */
export interface LocalPerson {
  id: string;
  name: string;
  realName: string;
  role: string;
}

export interface LocalWorkspaceOptions {
  double: SlackDouble;
  people: LocalPerson[];
  /** Channel names: where deploys are typed, and where Shipbot broadcasts summaries. */
  deployChannel?: string;
  stakeholderChannel?: string;
  /** The in-process sandbox (its URL and a fetch with its credentials), for the side panel; absent against a real cluster. */
  sandbox?: { url: string; fetch: typeof fetch };
  /** Demo clock speed, shown in the header. */
  speed?: number;
  port?: number;
  host?: string;
  logger?: Logger;
}

export interface LocalWorkspace {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const PUBLIC_DIR = new URL('./public/', import.meta.url);
/** The Markdown renderer the page shows reports with (marked's browser build, from node_modules). */
const MARKED = new URL(import.meta.resolve('marked'));

const ASSETS: Record<string, { file: string | URL; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/static/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/static/blocks.js': { file: 'blocks.js', type: 'text/javascript; charset=utf-8' },
  '/static/sandbox.js': { file: 'sandbox.js', type: 'text/javascript; charset=utf-8' },
  '/static/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
  '/favicon.svg': { file: 'favicon.svg', type: 'image/svg+xml' },
  '/static/marked.js': { file: MARKED, type: 'text/javascript; charset=utf-8' },
};

/** The largest body the page ever sends (a modal's values); anything bigger is refused unread. */
export const MAX_BODY_BYTES = 64 * 1024;

class BodyTooLarge extends Error {}

interface SseClient {
  res: ServerResponse;
  user: string;
}

export async function startLocalWorkspace(opts: LocalWorkspaceOptions): Promise<LocalWorkspace> {
  const { double } = opts;
  const ws = double.workspace;
  const clients = new Set<SseClient>();
  const log = opts.logger?.child({ part: 'local-workspace' });
  // Only the page may act: it gets this per-start token from /api/bootstrap (readable only from
  // its own origin) and sends it back on every POST, with JSON, the exact Host and its Origin.
  const token = randomBytes(18).toString('base64url');
  let port = 0;
  const hosts = () => new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `${opts.host ?? '127.0.0.1'}:${port}`]);

  const unsubscribe = double.onChange((e) => {
    for (const c of clients) {
      const payload = visibleChange(e, c.user);
      if (payload) c.res.write(`event: change\ndata: ${JSON.stringify(payload)}\n\n`);
    }
  });
  // Keeps proxies and the browser from dropping an idle stream.
  const heartbeat = setInterval(() => {
    for (const c of clients) c.res.write(': ping\n\n');
  }, 15_000);
  heartbeat.unref();

  function bootstrap() {
    const channelNames = [opts.deployChannel ?? 'deploys', opts.stakeholderChannel ?? 'deploy-announcements'].map((n) =>
      n.replace(/^#/, ''),
    );
    const channels = [...ws.channels.values()]
      .filter((c) => c.members.includes(ws.botUserId))
      .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
      .map((c) => ({ id: c.id, name: c.name, stakeholder: c.name === channelNames[1] }));
    function rank(name: string): number {
      const i = channelNames.indexOf(name);
      return i < 0 ? channelNames.length : i;
    }
    return {
      team: ws.teamDomain,
      botUserId: ws.botUserId,
      people: opts.people,
      users: [...ws.users.values()].map((u) => ({ id: u.id, name: u.name, realName: u.realName ?? u.name, isBot: !!u.isBot })),
      channels,
      sandbox: !!opts.sandbox,
      speed: opts.speed ?? 1,
      token,
    };
  }

  /** Why a request may not reach the API, or undefined when it may (DNS rebinding, cross-site posts). */
  function refusal(req: IncomingMessage, url: URL): { status: number; error: string; detail: string } | undefined {
    const allowed = hosts();
    if (!allowed.has(req.headers.host ?? ''))
      return { status: 421, error: 'bad_host', detail: `this page answers only as ${[...allowed].slice(0, 2).join(' or ')}` };
    if (req.method !== 'POST' || !url.pathname.startsWith('/api/')) return undefined;
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed.has(origin.replace(/^http:\/\//, '')))
      return { status: 403, error: 'bad_origin', detail: `requests from ${origin} are not accepted` };
    if (!/^application\/json(;|$)/i.test(req.headers['content-type'] ?? ''))
      return { status: 415, error: 'json_only', detail: 'send application/json' };
    if (req.headers['x-shipbot-token'] !== token)
      return { status: 403, error: 'bad_token', detail: 'reload the page: Shipbot restarted, or this did not come from it' };
    return undefined;
  }

  function stateFor(user: string) {
    return {
      messages: ws.messages.filter((m) => !m.deleted && (!m.ephemeralTo || m.ephemeralTo === user)).map(messageDto),
      views: double.openViews(user).map(viewDto),
    };
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const refused = refusal(req, url);
    if (refused) {
      res.setHeader('connection', 'close');
      return json(res, refused.status, { ok: false, error: refused.error, detail: refused.detail });
    }
    const asset = ASSETS[url.pathname];
    if (req.method === 'GET' && asset) {
      const body = await readFile(asset.file instanceof URL ? asset.file : new URL(asset.file, PUBLIC_DIR));
      res.writeHead(200, { 'content-type': asset.type, 'cache-control': 'no-cache' });
      res.end(body);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/api/bootstrap') return json(res, 200, bootstrap());
    if (req.method === 'GET' && url.pathname === '/api/state') return json(res, 200, stateFor(userParam(url)));
    if (req.method === 'GET' && url.pathname === '/api/events') return openStream(req, res, userParam(url));
    if (req.method === 'GET' && url.pathname === '/api/sandbox/overview') return proxyOverview(res);
    if (req.method === 'POST' && url.pathname.startsWith('/api/')) {
      const input = ApiInput.safeParse({ path: url.pathname, body: await readJson(req) });
      if (!input.success) return json(res, 400, { ok: false, error: 'bad_request', detail: z.prettifyError(input.error) });
      // The page acts only as the people it offers (one person with `start --as`).
      const actor = 'user' in input.data.body ? input.data.body.user : undefined;
      if (actor !== undefined && !opts.people.some((p) => p.id === actor))
        return json(res, 403, {
          ok: false,
          error: 'not_allowed',
          detail: `this workspace acts only as ${opts.people.map((p) => p.id).join(', ')}`,
        });
      return json(res, 200, await act(input.data));
    }
    json(res, 404, { ok: false, error: 'not_found' });
  }

  async function act(input: z.infer<typeof ApiInput>): Promise<Record<string, unknown>> {
    const { path: p, body } = input;
    switch (p) {
      case '/api/send': {
        const text = toSlackText(body.text, ws.botUserId);
        const slash = /^\/(\w[\w-]*)\s*([\s\S]*)$/.exec(text.trim());
        if (slash && !body.threadTs) {
          // Slack shows nobody the command itself; the page echoes it to its sender only.
          ws.addMessage({ channel: body.channel, user: body.user, text: text.trim(), ephemeralTo: body.user });
          const r = await double.slashCommand(body.user, `/${slash[1]}`, slash[2] ?? '', { channel: body.channel });
          showAckBody(r.body, body.user, body.channel);
          return { ok: r.status === 200, status: r.status };
        }
        const r = await double.postUserMessage(body.user, body.channel, text, { threadTs: body.threadTs });
        return { ok: r.responses.every((x) => x.status === 200), ts: r.ts };
      }
      case '/api/click': {
        const r = await double.clickButton(body.user, body.messageTs, body.actionId, { value: body.value });
        return { ok: r.status === 200, status: r.status };
      }
      case '/api/view/submit': {
        const r = await double.submitView(body.user, body.viewId, body.values);
        return { ok: r.status === 200 && !r.errors, status: r.status, errors: r.errors ?? null };
      }
      case '/api/view/change': {
        const r = await double.changeViewInput(body.user, body.viewId, body.actionId, body.value);
        return { ok: r.status === 200, status: r.status };
      }
      case '/api/view/close': {
        double.driver.closeView(body.viewId);
        return { ok: true };
      }
    }
  }

  /** A slash command's acknowledgement text is shown to the person who typed it, as Slack does. */
  function showAckBody(body: unknown, user: string, channel: string): void {
    if (!body || typeof body !== 'object') {
      if (typeof body === 'string' && body.trim())
        ws.addMessage({ channel, user: ws.botUserId, botId: ws.botId, text: body, ephemeralTo: user });
      return;
    }
    const b = body as { text?: unknown; blocks?: unknown; response_type?: unknown };
    if (typeof b.text !== 'string' && !Array.isArray(b.blocks)) return;
    ws.addMessage({
      channel,
      user: ws.botUserId,
      botId: ws.botId,
      text: typeof b.text === 'string' ? b.text : '',
      blocks: Array.isArray(b.blocks) ? b.blocks : undefined,
      ephemeralTo: b.response_type === 'in_channel' ? undefined : user,
    });
  }

  function openStream(req: IncomingMessage, res: ServerResponse, user: string): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`event: hello\ndata: ${JSON.stringify({ user })}\n\n`);
    const client = { res, user };
    clients.add(client);
    req.on('close', () => clients.delete(client));
  }

  async function proxyOverview(res: ServerResponse): Promise<void> {
    if (!opts.sandbox)
      return json(res, 404, {
        ok: false,
        error: 'no_sandbox',
        detail: 'Shipbot runs against a real cluster; there is no sandbox to show.',
      });
    try {
      const r = await opts.sandbox.fetch(new URL('/sandbox/v1/overview', opts.sandbox.url), { signal: AbortSignal.timeout(3000) });
      const text = await r.text();
      res.writeHead(r.status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(text);
    } catch (err) {
      json(res, 502, { ok: false, error: 'sandbox_unreachable', detail: (err as Error).message });
    }
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (err instanceof BodyTooLarge) {
        res.setHeader('connection', 'close');
        return json(res, 413, { ok: false, error: 'too_large', detail: `bodies are capped at ${MAX_BODY_BYTES / 1024} kB` });
      }
      log?.warn({ err }, 'local workspace request failed');
      if (!res.headersSent) json(res, 500, { ok: false, error: 'internal', detail: (err as Error).message });
      else res.end();
    });
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 3000, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}`,
    port,
    close: async () => {
      clearInterval(heartbeat);
      unsubscribe();
      for (const c of clients) c.res.end();
      clients.clear();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  function userParam(url: URL): string {
    const u = url.searchParams.get('user') ?? '';
    return opts.people.some((p) => p.id === u) ? u : (opts.people[0]?.id ?? '');
  }
}

/** What one person's page should hear about a change, or nothing (someone else's ephemeral or view). */
function visibleChange(e: ChangeEvent, user: string): Record<string, unknown> | undefined {
  switch (e.kind) {
    case 'message':
    case 'message-updated':
    case 'message-deleted':
      if (e.message.ephemeralTo && e.message.ephemeralTo !== user) return undefined;
      return { kind: e.kind, message: messageDto(e.message) };
    case 'view-opened':
    case 'view-updated':
    case 'view-closed':
      if (e.view.user !== user) return undefined;
      return { kind: e.kind, view: viewDto(e.view) };
    default:
      return undefined;
  }
}

function messageDto(m: DoubleMessage) {
  return {
    channel: m.channel,
    ts: m.ts,
    threadTs: m.threadTs ?? null,
    user: m.user ?? null,
    bot: !!m.botId,
    text: m.text,
    blocks: m.blocks ?? null,
    files: (m.files ?? []).map((f) => ({ name: f.name, title: f.title || f.name, content: f.content })),
    edits: m.editCount,
    ephemeral: !!m.ephemeralTo,
    broadcast: !!m.replyBroadcast,
    deleted: !!m.deleted,
  };
}

function viewDto(v: DoubleView) {
  return { id: v.id, open: v.open, parentId: v.parentId ?? null, view: v.view };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
  res.end(JSON.stringify(body));
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      throw new BodyTooLarge();
    }
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
