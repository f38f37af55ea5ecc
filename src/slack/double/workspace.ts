// The Slack double's workspace: users, channels, messages with threads, open views, issued
// trigger_ids and a log of every Web API call. Plain data and small methods, no HTTP here.

export interface DoubleUser {
  id: string;
  name: string;
  realName?: string;
  isBot?: boolean;
  /** User-group handles without `@`, e.g. `incident-commanders`. */
  groups?: string[];
  /** A guest: `restricted` (multi-channel) or `ultra` (single-channel), as users.info says. */
  guest?: 'restricted' | 'ultra';
  /** A Slack Connect user: the id of their own workspace. */
  teamId?: string;
}

export interface DoubleChannel {
  id: string;
  name: string;
  /** User ids in the channel; the bot must be listed to post there. */
  members: string[];
  isPrivate?: boolean;
}

export interface DoubleMessage {
  channel: string;
  ts: string;
  /** Set on replies: the ts of the thread's parent. */
  threadTs?: string;
  user?: string;
  botId?: string;
  text: string;
  blocks?: unknown[];
  /** How many times chat.update changed it. */
  editCount: number;
  /** Its earlier blocks, oldest first (the last few): what a client that has not redrawn yet still shows. */
  earlierBlocks?: unknown[][];
  /** Only this user sees it (chat.postEphemeral, ephemeral responses). */
  ephemeralTo?: string;
  replyBroadcast?: boolean;
  deleted?: boolean;
  /** Files shared with the message (files.uploadV2): name, title and text content. */
  files?: DoubleFile[];
}

export interface DoubleFile {
  id: string;
  name: string;
  title: string;
  /** The uploaded bytes as text (reports are Markdown). */
  content: string;
}

export interface DoubleView {
  id: string;
  user: string;
  view: Record<string, unknown>;
  hash: string;
  open: boolean;
  /** The view it was pushed on top of (views.push). */
  parentId?: string;
}

export interface ApiCall {
  method: string;
  /** Arguments as the app sent them (JSON fields decoded), token removed. */
  args: Record<string, unknown>;
  /** Real time the call arrived, ms. */
  at: number;
  httpStatus: number;
  response: Record<string, unknown>;
}

export type ChangeEvent =
  | { kind: 'message'; message: DoubleMessage }
  | { kind: 'message-updated'; message: DoubleMessage }
  | { kind: 'message-deleted'; message: DoubleMessage }
  | { kind: 'view-opened' | 'view-updated' | 'view-closed'; view: DoubleView }
  | { kind: 'call'; call: ApiCall };

export interface WorkspaceSeed {
  teamId?: string;
  teamDomain?: string;
  botUserId?: string;
  botId?: string;
  appId?: string;
  users?: DoubleUser[];
  channels?: DoubleChannel[];
}

export const DEFAULT_USERS: DoubleUser[] = [
  { id: 'U_DEV', name: 'alice', realName: 'Alice Developer' },
  { id: 'U_IC', name: 'ivan', realName: 'Ivan Commander' },
  { id: 'U_CAROL', name: 'carol', realName: 'Carol Oncall', groups: ['incident-commanders'] },
  { id: 'U_OTHER', name: 'bob', realName: 'Bob Bystander' },
];

export class Workspace {
  readonly teamId: string;
  readonly teamDomain: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly appId: string;
  readonly users = new Map<string, DoubleUser>();
  readonly channels = new Map<string, DoubleChannel>();
  readonly messages: DoubleMessage[] = [];
  readonly views = new Map<string, DoubleView>();
  readonly calls: ApiCall[] = [];
  /** trigger_id → expiry (ms, real time) and whether it was used. */
  readonly triggers = new Map<string, { user: string; expiresAt: number; used: boolean }>();
  /** Files between files.getUploadURLExternal and files.completeUploadExternal. */
  readonly uploads = new Map<string, DoubleFile & { uploaded: boolean }>();
  private listeners = new Set<(e: ChangeEvent) => void>();
  private lastTs = 0;
  private seq = 0;

  constructor(seed: WorkspaceSeed = {}) {
    this.teamId = seed.teamId ?? 'T0SHIPBOT';
    this.teamDomain = seed.teamDomain ?? 'shipbot-demo';
    this.botUserId = seed.botUserId ?? 'U0SHIPBOT';
    this.botId = seed.botId ?? 'B0SHIPBOT';
    this.appId = seed.appId ?? 'A0SHIPBOT';
    for (const u of [...(seed.users ?? DEFAULT_USERS), { id: this.botUserId, name: 'shipbot', isBot: true }]) this.users.set(u.id, u);
    const everyone = [...this.users.keys()];
    const channels = seed.channels ?? [
      { id: 'C0DEPLOYS', name: 'deploys', members: everyone },
      { id: 'C0ANNOUNCE', name: 'deploy-announcements', members: everyone },
      { id: 'C0RANDOM', name: 'random', members: everyone.filter((u) => u !== this.botUserId) },
    ];
    for (const c of channels) this.channels.set(c.id, c);
  }

  onChange(listener: (e: ChangeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(e: ChangeEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure must not break the API answer.
      }
    }
  }

  /** Slack timestamps: seconds with six digits, unique and increasing. */
  nextTs(): string {
    const micros = Math.max(Date.now() * 1000, this.lastTs + 1);
    this.lastTs = micros;
    return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
  }

  nextId(prefix: string): string {
    this.seq += 1;
    return `${prefix}${Date.now().toString(36).toUpperCase()}${this.seq}`;
  }

  /** Finds a channel by id, `#name` or `name`. */
  channel(idOrName: string): DoubleChannel | undefined {
    const byId = this.channels.get(idOrName);
    if (byId) return byId;
    const name = idOrName.replace(/^#/, '');
    return [...this.channels.values()].find((c) => c.name === name);
  }

  findMessage(channel: string, ts: string): DoubleMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted && !m.ephemeralTo);
  }

  findMessageAnywhere(ts: string): DoubleMessage | undefined {
    return this.messages.find((m) => m.ts === ts && !m.deleted);
  }

  /** An edit by chat.update or a response_url: the old blocks stay pressable for a moment, as in Slack. */
  editMessage(m: DoubleMessage, text: string, blocks: unknown[] | undefined): void {
    if (blocks !== undefined && m.blocks) m.earlierBlocks = [...(m.earlierBlocks ?? []), m.blocks].slice(-5);
    m.text = text;
    if (blocks !== undefined) m.blocks = blocks;
    m.editCount += 1;
    this.emit({ kind: 'message-updated', message: m });
  }

  addMessage(m: Omit<DoubleMessage, 'ts' | 'editCount'> & { ts?: string }): DoubleMessage {
    const message: DoubleMessage = { ...m, ts: m.ts ?? this.nextTs(), editCount: 0 };
    this.messages.push(message);
    this.emit({ kind: 'message', message });
    return message;
  }

  issueTrigger(user: string, lifetimeMs: number): string {
    const id = `${Date.now()}.${this.nextId('')}.${Math.random().toString(16).slice(2, 10)}`;
    this.triggers.set(id, { user, expiresAt: Date.now() + lifetimeMs, used: false });
    return id;
  }

  /** Messages everyone in the channel sees (no ephemerals), in order; `threadTs` narrows to one thread. */
  visibleMessages(channel: string, threadTs?: string): DoubleMessage[] {
    const c = this.channel(channel);
    return this.messages.filter(
      (m) =>
        m.channel === c?.id && !m.deleted && !m.ephemeralTo && (threadTs === undefined || m.ts === threadTs || m.threadTs === threadTs),
    );
  }

  groupsOf(userId: string): string[] {
    return this.users.get(userId)?.groups ?? [];
  }
}
