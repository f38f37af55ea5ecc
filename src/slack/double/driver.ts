// The Slack double's driver: plays Slack's side towards the app. Every request is a real,
// signed `POST /slack/events` like slack.com sends: events (with event_id and retry headers),
// slash commands, block_actions and view_submission.
import { signedHeaders } from './signing.js';
import { type Transport, viaFetch } from './transport.js';
import type { EnvelopeType, SocketModeServer } from './socket.js';
import type { DoubleMessage, DoubleView, Workspace } from './workspace.js';

export interface AppResponse {
  status: number;
  /** Parsed JSON when the app answered JSON, else the text (often empty). */
  body: unknown;
  /** Milliseconds from sending the request to the end of the answer (HTTP only): the app's ack as Slack times it. */
  ms?: number;
}

export interface DriverOptions {
  signingSecret: string;
  triggerLifetimeMs: number;
  /** Base URL of the double, for response_url. */
  apiBaseUrl: () => string;
  /** Where a Socket Mode app connects; used when no HTTP app URL is set. */
  socket?: SocketModeServer;
}

/** Values for a view submission: by block_id or action_id; strings, string lists (checkboxes) or null. */
export type ViewValues = Record<string, string | string[] | null>;

type Json = Record<string, unknown>;

export class Driver {
  appUrl = '';
  /** How long trigger_ids issued from now on live (ms); negative issues already-expired ones. */
  triggerLifetimeMs: number;
  private eventSeq = 0;
  private inflight = new Set<Promise<unknown>>();

  constructor(
    private readonly ws: Workspace,
    private readonly opts: DriverOptions,
  ) {
    this.triggerLifetimeMs = opts.triggerLifetimeMs;
  }

  /** Waits for echo events still on their way to the app (used before closing). */
  async settle(): Promise<void> {
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
  }

  private transport: Transport = viaFetch;

  /**
   * How requests reach the app: fetch by default. A transport prepares a request when it is built
   * and sends it when called (the button bench sends a burst from another process).
   */
  useTransport(transport: Transport | undefined): void {
    this.transport = transport ?? viaFetch;
  }

  /** Sends a raw body with the given headers (no signing): for bad-signature tests. */
  async sendRaw(body: string, headers: Record<string, string>): Promise<AppResponse> {
    if (!this.appUrl)
      throw new Error(
        "Slack double: no app URL; call connect(url) with the app's /slack/events URL first (or start the app in Socket Mode)",
      );
    const send = this.transport(this.appUrl, headers, body);
    const sentAt = performance.now();
    const res = await send();
    const { text } = res;
    // A transport that sent from elsewhere says how long the answer took there.
    const ms = res.ms ?? performance.now() - sentAt;
    let parsed: unknown = text;
    if (text && res.contentType.includes('json')) parsed = JSON.parse(text);
    else if (text.startsWith('{')) parsed = safeJson(text);
    return { status: res.status, body: parsed, ms };
  }

  async sendSigned(body: string, contentType: string, extra: Record<string, string> = {}, timestampSec?: number): Promise<AppResponse> {
    return this.sendRaw(body, { 'content-type': contentType, ...signedHeaders(this.opts.signingSecret, body, timestampSec), ...extra });
  }

  /** An Events API callback. `retryNum` adds Slack's retry headers, as when Slack thinks the first was lost. */
  async sendEvent(
    event: Json,
    opts: { eventId?: string; retryNum?: number; retryReason?: string } = {},
  ): Promise<AppResponse & { eventId: string }> {
    const eventId = opts.eventId ?? `Ev${Date.now().toString(36).toUpperCase()}${++this.eventSeq}`;
    const envelope = {
      token: 'legacy-verification-token',
      team_id: this.ws.teamId,
      api_app_id: this.ws.appId,
      event,
      type: 'event_callback',
      event_id: eventId,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        { enterprise_id: null, team_id: this.ws.teamId, user_id: this.ws.botUserId, is_bot: true, is_enterprise_install: false },
      ],
      is_ext_shared_channel: false,
      event_context: `4-${eventId}`,
    };
    return { ...(await this.deliver('events_api', envelope, opts)), eventId };
  }

  /**
   * A person posts a message. Slack sends it as a `message` event and, when it mentions the
   * bot, also as an `app_mention` event (separate event_ids, delivered concurrently).
   */
  async postUserMessage(user: string, channel: string, text: string, opts: { threadTs?: string } = {}) {
    const c = this.ws.channel(channel);
    if (!c) throw new Error(`Slack double: no channel '${channel}'`);
    const m = this.ws.addMessage({ channel: c.id, user, text, threadTs: opts.threadTs });
    const base = {
      user,
      text,
      ts: m.ts,
      channel: c.id,
      event_ts: m.ts,
      ...(opts.threadTs ? { thread_ts: opts.threadTs } : {}),
      client_msg_id: `cm-${m.ts}`,
      team: this.ws.teamId,
    };
    const deliveries: Array<Promise<AppResponse & { eventId: string }>> = [];
    if (c.members.includes(this.ws.botUserId)) {
      deliveries.push(this.sendEvent({ type: 'message', channel_type: c.isPrivate ? 'group' : 'channel', ...base }));
    }
    if (text.includes(`<@${this.ws.botUserId}>`)) deliveries.push(this.sendEvent({ type: 'app_mention', ...base }));
    const responses = await Promise.all(deliveries);
    return { ts: m.ts, message: m, responses };
  }

  /** A slash command as Slack posts it (form-encoded), with a fresh trigger_id. */
  async slashCommand(user: string, command: string, text: string, opts: { channel?: string } = {}) {
    const c = this.ws.channel(opts.channel ?? 'deploys');
    if (!c) throw new Error(`Slack double: no channel '${opts.channel}'`);
    const triggerId = this.ws.issueTrigger(user, this.triggerLifetimeMs);
    const form = new URLSearchParams({
      token: 'legacy-verification-token',
      team_id: this.ws.teamId,
      team_domain: this.ws.teamDomain,
      channel_id: c.id,
      channel_name: c.name,
      user_id: user,
      user_name: this.ws.users.get(user)?.name ?? user,
      command,
      text,
      api_app_id: this.ws.appId,
      is_enterprise_install: 'false',
      response_url: `${this.opts.apiBaseUrl()}/response/${encodeURIComponent(`${c.id}~${user}~`)}`,
      trigger_id: triggerId,
    });
    return { ...(await this.deliver('slash_commands', Object.fromEntries(form))), triggerId };
  }

  /** A person presses a button in a message (found by ts, in any channel). */
  async clickButton(user: string, messageTs: string, actionId: string, opts: { value?: string } = {}) {
    const m = this.ws.findMessageAnywhere(messageTs);
    if (!m) throw new Error(`Slack double: no message ${messageTs}`);
    // As in Slack, a client that has not redrawn an edited message yet still sends presses on
    // the version it shows: the press is delivered with that version's blocks.
    const versions = [m.blocks ?? [], ...[...(m.earlierBlocks ?? [])].reverse()];
    const shown = versions.find((b) => findElement(b, actionId));
    const found = shown && findElement(shown, actionId);
    if (!found)
      throw new Error(`Slack double: message ${messageTs} has no element '${actionId}' (has: ${listActionIds(m.blocks ?? []).join(', ')})`);
    const triggerId = this.ws.issueTrigger(user, this.triggerLifetimeMs);
    const c = this.ws.channels.get(m.channel)!;
    const payload = {
      type: 'block_actions',
      user: {
        id: user,
        username: this.ws.users.get(user)?.name ?? user,
        name: this.ws.users.get(user)?.name ?? user,
        team_id: this.ws.teamId,
      },
      api_app_id: this.ws.appId,
      token: 'legacy-verification-token',
      container: { type: 'message', message_ts: m.ts, channel_id: m.channel, is_ephemeral: !!m.ephemeralTo },
      trigger_id: triggerId,
      team: { id: this.ws.teamId, domain: this.ws.teamDomain },
      enterprise: null,
      is_enterprise_install: false,
      channel: { id: c.id, name: c.name },
      message: messageEventJson({ ...m, blocks: shown }),
      state: { values: {} },
      response_url: `${this.opts.apiBaseUrl()}/response/${encodeURIComponent(`${c.id}~${user}~${m.ts}`)}`,
      actions: [actionJson(found.element, found.blockId, opts.value)],
    };
    return { ...(await this.sendPayload(payload)), triggerId };
  }

  /** A person changes an element inside an open view (e.g. the risk level select with dispatch_action). */
  async changeViewInput(user: string, viewId: string, actionId: string, value: string | string[]) {
    const v = this.openView(viewId);
    const found = findElement((v.view.blocks as unknown[]) ?? [], actionId);
    if (!found) throw new Error(`Slack double: view ${viewId} has no element '${actionId}'`);
    const state = viewState(v, { [actionId]: value });
    const triggerId = this.ws.issueTrigger(user, this.triggerLifetimeMs);
    const payload = {
      type: 'block_actions',
      user: { id: user, username: this.ws.users.get(user)?.name ?? user, team_id: this.ws.teamId },
      api_app_id: this.ws.appId,
      token: 'legacy-verification-token',
      container: { type: 'view', view_id: v.id },
      trigger_id: triggerId,
      team: { id: this.ws.teamId, domain: this.ws.teamDomain },
      view: { ...viewPayload(v, this.ws), state: { values: state } },
      actions: [{ ...actionJson(found.element, found.blockId, undefined), ...stateEntry(found.element, value) }],
    };
    return { ...(await this.sendPayload(payload)), triggerId };
  }

  /**
   * Submits an open view. `values` override the current values (by block_id or action_id);
   * others keep their initial values. The double applies the app's answer: `errors` keep the
   * view open, `update` replaces it, `clear` closes all, no answer closes it.
   */
  async submitView(user: string, viewId: string, values: ViewValues = {}) {
    const v = this.openView(viewId);
    const triggerId = this.ws.issueTrigger(user, this.triggerLifetimeMs);
    const payload = {
      type: 'view_submission',
      team: { id: this.ws.teamId, domain: this.ws.teamDomain },
      user: {
        id: user,
        username: this.ws.users.get(user)?.name ?? user,
        name: this.ws.users.get(user)?.name ?? user,
        team_id: this.ws.teamId,
      },
      api_app_id: this.ws.appId,
      token: 'legacy-verification-token',
      trigger_id: triggerId,
      view: { ...viewPayload(v, this.ws), state: { values: viewState(v, values) } },
      response_urls: [],
      is_enterprise_install: false,
    };
    const res = await this.sendPayload(payload);
    const answer = (res.body && typeof res.body === 'object' ? res.body : {}) as Json;
    const action = answer.response_action;
    if (res.status === 200 && action !== 'errors') {
      if (action === 'update' && answer.view) {
        v.view = { ...(answer.view as Json), id: v.id };
        this.ws.emit({ kind: 'view-updated', view: v });
      } else if (action === 'clear') {
        for (const x of this.ws.views.values()) if (x.open && x.user === v.user) this.close(x);
      } else if (action !== 'push') {
        this.close(v);
      }
    }
    return { ...res, errors: action === 'errors' ? (answer.errors as Record<string, string>) : undefined };
  }

  /** A person closes a view with the Cancel button. */
  closeView(viewId: string): void {
    this.close(this.openView(viewId));
  }

  /** Echoes a bot post or edit back to the app as Slack does (message / message_changed events). */
  echoBotMessage(m: DoubleMessage, edited: boolean): void {
    const event = edited
      ? {
          type: 'message',
          subtype: 'message_changed',
          channel: m.channel,
          hidden: true,
          ts: this.ws.nextTs(),
          message: messageEventJson(m),
          event_ts: m.ts,
        }
      : { type: 'message', subtype: 'bot_message', ...messageEventJson(m), channel: m.channel, event_ts: m.ts };
    const p = this.sendEvent(event).catch(() => undefined);
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private openView(viewId: string): DoubleView {
    const v = this.ws.views.get(viewId);
    if (!v?.open) throw new Error(`Slack double: view ${viewId} is not open`);
    return v;
  }

  private close(v: DoubleView): void {
    v.open = false;
    this.ws.emit({ kind: 'view-closed', view: v });
  }

  private sendPayload(payload: Json): Promise<AppResponse> {
    return this.deliver('interactive', payload);
  }

  /**
   * Hands a request to the app the way Slack would: as a signed HTTP request when `connect(url)`
   * set an app URL, otherwise as a Socket Mode envelope (the ack's payload is the answer).
   */
  private async deliver(type: EnvelopeType, body: Json, retry: { retryNum?: number; retryReason?: string } = {}): Promise<AppResponse> {
    if (!this.appUrl && this.opts.socket?.connected) {
      const ack = await this.opts.socket.send(type, body, { retryAttempt: retry.retryNum, retryReason: retry.retryReason });
      return { status: 200, body: ack && typeof ack === 'object' && Object.keys(ack).length ? ack : '' };
    }
    if (type === 'events_api') {
      const extra: Record<string, string> =
        retry.retryNum !== undefined
          ? { 'x-slack-retry-num': String(retry.retryNum), 'x-slack-retry-reason': retry.retryReason ?? 'http_timeout' }
          : {};
      return this.sendSigned(JSON.stringify(body), 'application/json', extra);
    }
    const form =
      type === 'slash_commands'
        ? new URLSearchParams(body as Record<string, string>)
        : new URLSearchParams({ payload: JSON.stringify(body) });
    return this.sendSigned(form.toString(), 'application/x-www-form-urlencoded');
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function messageEventJson(m: DoubleMessage): Json {
  return {
    type: 'message',
    ts: m.ts,
    ...(m.threadTs ? { thread_ts: m.threadTs } : {}),
    ...(m.user ? { user: m.user } : {}),
    ...(m.botId ? { bot_id: m.botId } : {}),
    text: m.text,
    ...(m.blocks ? { blocks: m.blocks } : {}),
  };
}

function viewPayload(v: DoubleView, ws: Workspace): Json {
  return {
    type: 'modal',
    private_metadata: '',
    callback_id: '',
    ...v.view,
    id: v.id,
    team_id: ws.teamId,
    app_id: ws.appId,
    hash: v.hash,
    root_view_id: v.parentId ?? v.id,
    previous_view_id: v.parentId ?? null,
  };
}

type Found = { element: Json; blockId: string };

function findElement(blocks: unknown[], actionId: string): Found | undefined {
  for (const b of blocks as Json[]) {
    const blockId = String(b.block_id ?? '');
    const candidates = [
      ...((b.elements as Json[] | undefined) ?? []),
      ...(b.accessory ? [b.accessory as Json] : []),
      ...(b.element ? [b.element as Json] : []),
    ];
    const element = candidates.find((e) => e.action_id === actionId);
    if (element) return { element, blockId };
  }
  return undefined;
}

function listActionIds(blocks: unknown[]): string[] {
  const ids: string[] = [];
  for (const b of blocks as Json[]) {
    for (const e of [...((b.elements as Json[] | undefined) ?? []), ...(b.accessory ? [b.accessory as Json] : [])]) {
      if (typeof e.action_id === 'string') ids.push(e.action_id);
    }
  }
  return ids;
}

function actionJson(e: Json, blockId: string, value: string | undefined): Json {
  return {
    action_id: e.action_id,
    block_id: blockId,
    type: e.type,
    ...(e.text ? { text: e.text } : {}),
    ...(e.type === 'button' ? { value: value ?? e.value } : {}),
    action_ts: String(Date.now() / 1000),
  };
}

function options(e: Json): Json[] {
  return (e.options as Json[] | undefined) ?? [];
}

/** The state entry Slack reports for an element holding `value`. */
function stateEntry(e: Json, value: string | string[] | null): Json {
  switch (e.type) {
    case 'static_select':
    case 'radio_buttons': {
      const opt = options(e).find((o) => o.value === value) ?? null;
      return { type: e.type, selected_option: opt };
    }
    case 'checkboxes': {
      const wanted = Array.isArray(value) ? value : value === null ? [] : [value];
      return { type: e.type, selected_options: options(e).filter((o) => wanted.includes(String(o.value))) };
    }
    default:
      return { type: e.type, value: value === null ? null : Array.isArray(value) ? value.join(',') : value };
  }
}

/** Current values of every input: the element's initial value unless `overrides` names it. */
function viewState(v: DoubleView, overrides: ViewValues): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const b of (v.view.blocks as Json[] | undefined) ?? []) {
    const element = (b.element ?? (b.type === 'actions' ? undefined : b.accessory)) as Json | undefined;
    if (!element || typeof element.action_id !== 'string') continue;
    const blockId = String(b.block_id ?? '');
    const actionId = element.action_id;
    let value: string | string[] | null;
    if (blockId in overrides) value = overrides[blockId]!;
    else if (actionId in overrides) value = overrides[actionId]!;
    else value = initialValue(element);
    (values[blockId] ??= {})[actionId] = stateEntry(element, value);
  }
  return values;
}

function initialValue(e: Json): string | string[] | null {
  if (e.initial_option) return String((e.initial_option as Json).value);
  if (Array.isArray(e.initial_options)) return (e.initial_options as Json[]).map((o) => String(o.value));
  if (e.initial_value !== undefined) return String(e.initial_value);
  return null;
}
