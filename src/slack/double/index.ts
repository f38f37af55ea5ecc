// A local stand-in for Slack: its Web API (for the app's WebClient) and its side of the Events
// API (signed requests into the app). Tests drive it; local mode serves it to a browser.
// See README.md in this folder for the API.
import { Driver, type ViewValues } from './driver.js';
import { SocketModeServer } from './socket.js';
import { WebApi } from './web-api.js';
import { Workspace, type ChangeEvent, type DoubleChannel, type DoubleMessage, type DoubleUser, type DoubleView } from './workspace.js';

export type { ApiCall, ChangeEvent, DoubleChannel, DoubleMessage, DoubleUser, DoubleView } from './workspace.js';
export type { AppResponse, ViewValues } from './driver.js';
export { signature, signedHeaders } from './signing.js';

export interface SlackDoubleOptions {
  botToken?: string;
  /** App-level token for Socket Mode (SLACK_APP_TOKEN). */
  appToken?: string;
  signingSecret?: string;
  users?: DoubleUser[];
  channels?: DoubleChannel[];
  /** How long a trigger_id stays valid (Slack: 3000 ms). */
  triggerLifetimeMs?: number;
  /** Echo the bot's own posts and edits back as message events, as Slack does. */
  echoBotMessages?: boolean;
  port?: number;
}

export interface SlackDouble {
  /** Web API base URL for SLACK_API_URL, ending in `/api/`. */
  readonly apiUrl: string;
  readonly botToken: string;
  readonly appToken: string;
  readonly signingSecret: string;
  readonly workspace: Workspace;
  readonly driver: Driver;
  readonly botUserId: string;
  /** Where the app listens, e.g. `http://127.0.0.1:4321/slack/events`. Without it, requests go over Socket Mode. */
  connect(appEventsUrl: string): void;
  /** Resolves once a Socket Mode app has connected. */
  socketConnected(): Promise<void>;
  postUserMessage(user: string, channel: string, text: string, opts?: { threadTs?: string }): ReturnType<Driver['postUserMessage']>;
  slashCommand(user: string, command: string, text: string, opts?: { channel?: string }): ReturnType<Driver['slashCommand']>;
  clickButton(user: string, messageTs: string, actionId: string, opts?: { value?: string }): ReturnType<Driver['clickButton']>;
  submitView(user: string, viewId: string, values?: ViewValues): ReturnType<Driver['submitView']>;
  changeViewInput(user: string, viewId: string, actionId: string, value: string | string[]): ReturnType<Driver['changeViewInput']>;
  /** Messages everyone in the channel sees, oldest first; with `threadTs`, that thread only. */
  messages(channel: string, threadTs?: string): DoubleMessage[];
  /** Ephemeral messages shown to `user` (in any channel). */
  ephemerals(user: string): DoubleMessage[];
  /** Views currently open for `user`, newest last. */
  openViews(user?: string): DoubleView[];
  /** Web API calls so far, optionally of one method. */
  calls(method?: string): ReturnType<Workspace['calls']['slice']>;
  onChange(listener: (e: ChangeEvent) => void): () => void;
  /** Rate limits: at most `perMinute` calls of `method` in 60 s; `failNext` forces 429s. */
  setRateLimit(method: string, perMinute: number | undefined): void;
  failNext(method: string, times?: number, retryAfterSec?: number): void;
  /** Makes every trigger_id issued so far expired (as if the app took more than 3 s). */
  expireTriggers(): void;
  /** Lifetime of trigger_ids issued from now on; a negative value issues expired ones. */
  setTriggerLifetime(ms: number): void;
  close(): Promise<void>;
}

export async function startSlackDouble(opts: SlackDoubleOptions = {}): Promise<SlackDouble> {
  const botToken = opts.botToken ?? 'xoxb-double-token';
  const signingSecret = opts.signingSecret ?? 'double-signing-secret';
  const triggerLifetimeMs = opts.triggerLifetimeMs ?? 3000;
  const appToken = opts.appToken ?? 'xapp-double-app-token';
  const ws = new Workspace({ users: opts.users, channels: opts.channels });
  const socket = new SocketModeServer(ws.appId);
  let driver: Driver | undefined;
  const api = new WebApi(ws, {
    botToken,
    appToken,
    socket,
    triggerLifetimeMs,
    onBotMessage: opts.echoBotMessages ? (m, edited) => driver?.echoBotMessage(m, edited) : undefined,
  });
  const base = await api.listen(opts.port ?? 0);
  driver = new Driver(ws, { signingSecret, triggerLifetimeMs, apiBaseUrl: () => base, socket });
  const d = driver;
  return {
    apiUrl: `${base}/api/`,
    botToken,
    appToken,
    signingSecret,
    workspace: ws,
    driver: d,
    botUserId: ws.botUserId,
    connect: (url) => {
      d.appUrl = url;
    },
    socketConnected: () => socket.whenConnected(),
    postUserMessage: (u, c, t, o) => d.postUserMessage(u, c, t, o),
    slashCommand: (u, c, t, o) => d.slashCommand(u, c, t, o),
    clickButton: (u, ts, a, o) => d.clickButton(u, ts, a, o),
    submitView: (u, v, vals) => d.submitView(u, v, vals),
    changeViewInput: (u, v, a, val) => d.changeViewInput(u, v, a, val),
    messages: (c, t) => ws.visibleMessages(c, t),
    ephemerals: (u) => ws.messages.filter((m) => m.ephemeralTo === u && !m.deleted),
    openViews: (u) => [...ws.views.values()].filter((v) => v.open && (u === undefined || v.user === u)),
    calls: (m) => ws.calls.filter((c) => m === undefined || c.method === m),
    onChange: (l) => ws.onChange(l),
    setRateLimit: (m, n) => api.setRateLimit(m, n),
    failNext: (m, n, s) => api.failNext(m, n, s),
    expireTriggers: () => {
      for (const t of ws.triggers.values()) t.expiresAt = 0;
    },
    setTriggerLifetime: (ms) => {
      d.triggerLifetimeMs = ms;
    },
    close: async () => {
      await d.settle();
      await api.close();
    },
  };
}
