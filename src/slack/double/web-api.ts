// The Slack double's Web API: an HTTP server answering the methods Shipbot calls, in Slack's
// JSON shapes (HTTP 200 with `ok:false` for errors, HTTP 429 + Retry-After when rate limited).
// It accepts form-encoded and JSON bodies like slack.com, and records every call.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { viewProblems } from '../blocks/limits.js';
import type { SocketModeServer } from './socket.js';
import type { ApiCall, DoubleMessage, DoubleView, Workspace } from './workspace.js';
import { type Args, messageJson, messageProblems, parseArgs, readBody, viewJson } from './wire.js';

type Answer = { status?: number; headers?: Record<string, string>; body: Record<string, unknown> };

export interface WebApiOptions {
  botToken: string;
  /** The app-level token (xapp-…) that may open a Socket Mode connection. */
  appToken: string;
  socket: SocketModeServer;
  /** How long a trigger_id can be used (Slack: 3 s). */
  triggerLifetimeMs: number;
  /** Called after a bot message is posted or edited, so the driver can echo it as an event. */
  onBotMessage?: (m: DoubleMessage, edited: boolean) => void;
}

export class WebApi {
  private server?: Server;
  /** method → timestamps (ms) of recent successful calls, for the per-method budget. */
  private recent = new Map<string, number[]>();
  private budgets = new Map<string, number>();
  private failures = new Map<string, Array<{ retryAfterSec: number }>>();
  baseUrl = '';

  constructor(
    readonly ws: Workspace,
    private readonly opts: WebApiOptions,
  ) {}

  async listen(port = 0): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('upgrade', (req, socket) => {
      if ((req.url ?? '').startsWith('/socket')) this.opts.socket.upgrade(req, socket);
      else socket.end('HTTP/1.1 404 Not Found\r\n\r\n');
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    const { port: actual } = this.server.address() as AddressInfo;
    this.baseUrl = `http://127.0.0.1:${actual}`;
    return this.baseUrl;
  }

  async close(): Promise<void> {
    this.opts.socket.close();
    const s = this.server;
    if (!s) return;
    s.closeAllConnections?.();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Allows at most `perMinute` successful calls of `method` in any 60 s (e.g. chat.update at Tier 3, 50). */
  setRateLimit(method: string, perMinute: number | undefined): void {
    if (perMinute === undefined) this.budgets.delete(method);
    else this.budgets.set(method, perMinute);
  }

  /** The next `times` calls of `method` answer 429 with this Retry-After. */
  failNext(method: string, times = 1, retryAfterSec = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push({ retryAfterSec });
    this.failures.set(method, list);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://x');
    let answer: Answer;
    let method = '';
    let args: Args = {};
    try {
      if (!url.pathname.startsWith('/upload/')) args = parseArgs(raw, String(req.headers['content-type'] ?? ''));
      if (url.pathname.startsWith('/upload/')) {
        method = 'upload';
        answer = this.upload(decodeURIComponent(url.pathname.slice('/upload/'.length)), raw, String(req.headers['content-type'] ?? ''));
      } else if (url.pathname.startsWith('/response/')) {
        method = 'response_url';
        answer = this.responseUrl(decodeURIComponent(url.pathname.slice('/response/'.length)), args);
      } else if (url.pathname.startsWith('/api/')) {
        method = url.pathname.slice('/api/'.length);
        for (const [k, v] of url.searchParams) args[k] ??= v;
        answer = this.call(method, args, String(req.headers.authorization ?? ''));
      } else {
        answer = { status: 404, body: { ok: false, error: 'not_found' } };
      }
    } catch (err) {
      answer = { body: { ok: false, error: 'invalid_arguments', detail: (err as Error).message } };
    }
    const { token: _token, ...recorded } = args;
    const call: ApiCall = { method, args: recorded, at: Date.now(), httpStatus: answer.status ?? 200, response: answer.body };
    this.ws.calls.push(call);
    this.ws.emit({ kind: 'call', call });
    res.writeHead(answer.status ?? 200, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(JSON.stringify(answer.body));
  }

  private call(method: string, args: Args, authorization: string): Answer {
    const token = authorization.replace(/^Bearer\s+/i, '') || String(args.token ?? '');
    if (!token) return { body: { ok: false, error: 'not_authed' } };
    if (method === 'apps.connections.open') {
      if (!token.startsWith('xapp-')) return { body: { ok: false, error: 'not_allowed_token_type' } };
      if (token !== this.opts.appToken) return { body: { ok: false, error: 'invalid_auth' } };
      return { body: { ok: true, url: `${this.baseUrl.replace(/^http/, 'ws')}/socket` } };
    }
    if (token !== this.opts.botToken) return { body: { ok: false, error: 'invalid_auth' } };
    const limited = this.rateLimited(method);
    if (limited) return limited;
    const handler = this.methods[method];
    if (!handler) return { body: { ok: false, error: 'unknown_method' } };
    const body = handler(args);
    if (body.ok) this.recent.get(method)?.push(Date.now());
    return { body };
  }

  private rateLimited(method: string): Answer | undefined {
    const forced = this.failures.get(method);
    if (forced?.length) {
      const { retryAfterSec } = forced.shift()!;
      return { status: 429, headers: { 'retry-after': String(retryAfterSec) }, body: { ok: false, error: 'ratelimited' } };
    }
    const budget = this.budgets.get(method);
    if (budget === undefined) return undefined;
    const now = Date.now();
    const times = (this.recent.get(method) ?? []).filter((t) => now - t < 60_000);
    this.recent.set(method, times);
    if (times.length < budget) return undefined;
    const retryAfterSec = Math.max(1, Math.ceil((times[0]! + 60_000 - now) / 1000));
    return { status: 429, headers: { 'retry-after': String(retryAfterSec) }, body: { ok: false, error: 'ratelimited' } };
  }

  private readonly methods: Record<string, (a: Args) => Record<string, unknown>> = {
    'api.test': (a) => ({ ok: true, args: a }),
    'auth.test': () => ({
      ok: true,
      url: `https://${this.ws.teamDomain}.slack.com/`,
      team: this.ws.teamDomain,
      user: 'shipbot',
      team_id: this.ws.teamId,
      user_id: this.ws.botUserId,
      bot_id: this.ws.botId,
      is_enterprise_install: false,
    }),
    'chat.postMessage': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      if (!c.members.includes(this.ws.botUserId)) return { ok: false, error: 'not_in_channel' };
      const bad = messageProblems(a);
      if (bad) return bad;
      const threadTs = a.thread_ts ? String(a.thread_ts) : undefined;
      if (threadTs && !this.ws.findMessage(c.id, threadTs)) return { ok: false, error: 'thread_not_found' };
      const m = this.ws.addMessage({
        channel: c.id,
        threadTs,
        user: this.ws.botUserId,
        botId: this.ws.botId,
        text: String(a.text ?? ''),
        blocks: a.blocks as unknown[] | undefined,
        replyBroadcast: a.reply_broadcast === true || a.reply_broadcast === 'true',
      });
      this.opts.onBotMessage?.(m, false);
      return { ok: true, channel: c.id, ts: m.ts, message: messageJson(m) };
    },
    'chat.update': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      const m = this.ws.findMessage(c.id, String(a.ts ?? ''));
      if (!m) return { ok: false, error: 'message_not_found' };
      if (m.botId !== this.ws.botId) return { ok: false, error: 'cant_update_message' };
      const bad = messageProblems(a);
      if (bad) return bad;
      this.ws.editMessage(m, a.text !== undefined ? String(a.text) : m.text, a.blocks !== undefined ? (a.blocks as unknown[]) : undefined);
      this.opts.onBotMessage?.(m, true);
      return { ok: true, channel: c.id, ts: m.ts, text: m.text, message: messageJson(m) };
    },
    'chat.delete': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      const m = c && this.ws.findMessage(c.id, String(a.ts ?? ''));
      if (!m) return { ok: false, error: 'message_not_found' };
      m.deleted = true;
      this.ws.emit({ kind: 'message-deleted', message: m });
      return { ok: true, channel: m.channel, ts: m.ts };
    },
    'chat.postEphemeral': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      const user = String(a.user ?? '');
      if (!this.ws.users.has(user)) return { ok: false, error: 'user_not_found' };
      if (!c.members.includes(user)) return { ok: false, error: 'user_not_in_channel' };
      const bad = messageProblems(a);
      if (bad) return bad;
      const m = this.ws.addMessage({
        channel: c.id,
        threadTs: a.thread_ts ? String(a.thread_ts) : undefined,
        user: this.ws.botUserId,
        botId: this.ws.botId,
        text: String(a.text ?? ''),
        blocks: a.blocks as unknown[] | undefined,
        ephemeralTo: user,
      });
      return { ok: true, message_ts: m.ts };
    },
    'views.open': (a) => this.openView(a, undefined),
    'views.push': (a) => {
      const parent = [...this.ws.views.values()].reverse().find((v) => v.open);
      return this.openView(a, parent?.id);
    },
    'views.update': (a) => {
      const id = String(a.view_id ?? '');
      const v = this.ws.views.get(id) ?? [...this.ws.views.values()].find((x) => x.view.external_id === a.external_id && a.external_id);
      if (!v?.open) return { ok: false, error: 'not_found' };
      if (a.hash !== undefined && a.hash !== v.hash) return { ok: false, error: 'hash_conflict' };
      const view = a.view as Record<string, unknown> | undefined;
      if (!view || typeof view !== 'object') return { ok: false, error: 'invalid_arguments' };
      const problems = viewProblems(view);
      if (problems.length) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
      v.view = { ...view, id: v.id };
      v.hash = this.ws.nextId('H');
      this.ws.emit({ kind: 'view-updated', view: v });
      return { ok: true, view: viewJson(v, this.ws.teamId, this.ws.appId) };
    },
    'users.info': (a) => {
      const u = this.ws.users.get(String(a.user ?? ''));
      if (!u) return { ok: false, error: 'user_not_found' };
      return {
        ok: true,
        user: {
          id: u.id,
          team_id: u.teamId ?? this.ws.teamId,
          name: u.name,
          is_restricted: u.guest !== undefined,
          is_ultra_restricted: u.guest === 'ultra',
          real_name: u.realName ?? u.name,
          is_bot: u.isBot ?? false,
          deleted: false,
          tz: 'Europe/London',
          profile: { display_name: u.name, real_name: u.realName ?? u.name },
        },
      };
    },
    'conversations.info': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      return {
        ok: true,
        channel: {
          id: c.id,
          name: c.name,
          is_channel: !c.isPrivate,
          is_group: !!c.isPrivate,
          is_private: !!c.isPrivate,
          is_im: false,
          is_member: c.members.includes(this.ws.botUserId),
          num_members: c.members.length,
        },
      };
    },
    'conversations.replies': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      const ts = String(a.ts ?? '');
      const msgs = this.ws.visibleMessages(c.id, ts);
      if (!msgs.length) return { ok: false, error: 'thread_not_found' };
      return { ok: true, messages: msgs.map(messageJson), has_more: false };
    },
    'conversations.history': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      const top = this.ws.visibleMessages(c.id).filter((m) => !m.threadTs || m.replyBroadcast);
      return { ok: true, messages: top.reverse().map(messageJson), has_more: false };
    },
    'reactions.add': (a) => {
      const c = this.ws.channel(String(a.channel ?? ''));
      if (!c) return { ok: false, error: 'channel_not_found' };
      if (!this.ws.findMessage(c.id, String(a.timestamp ?? ''))) return { ok: false, error: 'message_not_found' };
      if (!a.name) return { ok: false, error: 'invalid_name' };
      return { ok: true };
    },
    'files.getUploadURLExternal': (a) => {
      if (!a.filename || a.length === undefined) return { ok: false, error: 'invalid_arguments' };
      const id = this.ws.nextId('F');
      this.ws.uploads.set(id, { id, name: String(a.filename), title: String(a.filename), content: '', uploaded: false });
      return { ok: true, upload_url: `${this.baseUrl}/upload/${id}`, file_id: id };
    },
    'files.completeUploadExternal': (a) => {
      const list = (a.files as Array<{ id: string; title?: string }> | undefined) ?? [];
      const files = list.map((f) => this.ws.uploads.get(f.id));
      if (!list.length || files.some((f) => !f?.uploaded)) return { ok: false, error: 'file_not_found' };
      for (const [i, f] of files.entries()) if (list[i]!.title) f!.title = list[i]!.title!;
      const shared = files.map((f) => ({ id: f!.id, name: f!.name, title: f!.title, content: f!.content }));
      if (a.channel_id) {
        const c = this.ws.channel(String(a.channel_id));
        if (!c) return { ok: false, error: 'channel_not_found' };
        if (!c.members.includes(this.ws.botUserId)) return { ok: false, error: 'not_in_channel' };
        this.ws.addMessage({
          channel: c.id,
          threadTs: a.thread_ts ? String(a.thread_ts) : undefined,
          user: this.ws.botUserId,
          botId: this.ws.botId,
          text: String(a.initial_comment ?? ''),
          files: shared,
        });
      }
      return { ok: true, files: shared.map(({ content: _c, ...f }) => f) };
    },
    'usergroups.list': (a) => {
      const handles = new Set<string>();
      for (const u of this.ws.users.values()) for (const g of u.groups ?? []) handles.add(g);
      const include = a.include_users === true || a.include_users === 'true';
      return {
        ok: true,
        usergroups: [...handles].map((h) => ({
          id: `S_${h.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`,
          team_id: this.ws.teamId,
          handle: h,
          name: h,
          ...(include ? { users: [...this.ws.users.values()].filter((u) => u.groups?.includes(h)).map((u) => u.id) } : {}),
        })),
      };
    },
  };

  private openView(a: Args, parentId: string | undefined): Record<string, unknown> {
    const triggerId = String(a.trigger_id ?? '');
    const trigger = this.ws.triggers.get(triggerId);
    if (!trigger) return { ok: false, error: 'invalid_trigger_id' };
    if (trigger.used) return { ok: false, error: 'exchanged_trigger_id' };
    if (Date.now() > trigger.expiresAt) return { ok: false, error: 'expired_trigger_id' };
    const view = a.view as Record<string, unknown> | undefined;
    if (!view || typeof view !== 'object') return { ok: false, error: 'invalid_arguments' };
    const problems = viewProblems(view);
    if (problems.length) return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
    trigger.used = true;
    const v: DoubleView = { id: this.ws.nextId('V'), user: trigger.user, view, hash: this.ws.nextId('H'), open: true, parentId };
    v.view = { ...view, id: v.id };
    this.ws.views.set(v.id, v);
    this.ws.emit({ kind: 'view-opened', view: v });
    return { ok: true, view: viewJson(v, this.ws.teamId, this.ws.appId) };
  }

  /** The file bytes of files.uploadV2's second step (a multipart or raw POST to upload_url). */
  private upload(id: string, raw: string, contentType: string): Answer {
    const f = this.ws.uploads.get(id);
    if (!f) return { status: 404, body: { ok: false, error: 'file_not_found' } };
    const boundary = /boundary=([^;]+)/.exec(contentType)?.[1];
    let content = raw;
    if (boundary) {
      // The first part's content: after the blank line that ends its headers, up to the next boundary.
      const part = raw.split(`--${boundary}`)[1] ?? '';
      content = part.slice(part.indexOf('\r\n\r\n') + 4).replace(/\r\n$/, '');
    }
    f.content = content;
    f.uploaded = true;
    return { body: { ok: true } };
  }

  /** response_url: what Bolt's `respond()` posts to after a slash command or a button. */
  private responseUrl(id: string, a: Args): Answer {
    const [channel, user, messageTs] = id.split('~');
    const c = this.ws.channel(channel ?? '');
    if (!c || !user) return { status: 404, body: { ok: false, error: 'expired_url' } };
    const bad = messageProblems(a);
    if (bad) return { body: bad };
    if (a.delete_original === true && messageTs) {
      const m = this.ws.findMessage(c.id, messageTs);
      if (m) {
        m.deleted = true;
        this.ws.emit({ kind: 'message-deleted', message: m });
      }
      return { body: { ok: true } };
    }
    if (a.replace_original === true && messageTs) {
      const m = this.ws.findMessage(c.id, messageTs);
      if (m) {
        this.ws.editMessage(m, String(a.text ?? m.text), a.blocks ? (a.blocks as unknown[]) : undefined);
        return { body: { ok: true } };
      }
    }
    const inChannel = a.response_type === 'in_channel';
    this.ws.addMessage({
      channel: c.id,
      threadTs: a.thread_ts ? String(a.thread_ts) : undefined,
      user: this.ws.botUserId,
      botId: this.ws.botId,
      text: String(a.text ?? ''),
      blocks: a.blocks as unknown[] | undefined,
      ephemeralTo: inChannel ? undefined : user,
    });
    return { body: { ok: true } };
  }
}
