// Who pressed or typed something: a Slack user id → Actor with name and user-group handles
// (`@incident-commanders`), which the role rules in shipbot.yml refer to. Cached briefly.
import type { WebClient } from '@slack/web-api';
import type { Actor } from '../domain/types.js';
import type { Logger } from '../log.js';
import { retryRateLimited } from './post.js';

const TTL_MS = 5 * 60_000;

export class People {
  private users = new Map<string, { name?: string; outsider?: Actor['outsider']; at: number }>();
  private groups?: { byUser: Map<string, string[]>; at: number };
  private loadingGroups?: Promise<void>;
  private ownTeam?: Promise<string | undefined>;

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
  ) {}

  async actor(userId: string, fallbackName?: string): Promise<Actor> {
    const [user, groups] = await Promise.all([this.user(userId, fallbackName), this.groupsOf(userId)]);
    return { userId, name: user.name, groups, ...(user.outsider ? { outsider: user.outsider } : {}) };
  }

  /** Name, and whether the person is a guest or from another workspace (Slack Connect). */
  private async user(userId: string, fallback?: string): Promise<{ name?: string; outsider?: Actor['outsider'] }> {
    const hit = this.users.get(userId);
    if (hit && Date.now() - hit.at < TTL_MS) return hit;
    try {
      const [res, team] = await Promise.all([retryRateLimited(() => this.client.users.info({ user: userId })), this.team()]);
      const u = res.user;
      const name = u?.profile?.display_name || u?.real_name || u?.name || fallback;
      const outsider: Actor['outsider'] =
        u?.is_restricted || u?.is_ultra_restricted ? 'guest' : team && u?.team_id && u.team_id !== team ? 'external' : undefined;
      const info = { name, outsider, at: Date.now() };
      this.users.set(userId, info);
      return info;
    } catch (err) {
      // Unknown: roles named by id still apply; `*` does not stretch to a person Slack would not describe.
      this.logger.debug({ err, userId }, 'users.info failed; using the id');
      return { name: fallback, outsider: 'unknown' };
    }
  }

  /** This workspace's id (auth.test), once. */
  private team(): Promise<string | undefined> {
    this.ownTeam ??= retryRateLimited(() => this.client.auth.test())
      .then((r) => r.team_id)
      .catch(() => {
        this.ownTeam = undefined;
        return undefined;
      });
    return this.ownTeam;
  }

  private async groupsOf(userId: string): Promise<string[]> {
    if (!this.groups || Date.now() - this.groups.at > TTL_MS) {
      this.loadingGroups ??= this.loadGroups().finally(() => (this.loadingGroups = undefined));
      await this.loadingGroups;
    }
    return this.groups?.byUser.get(userId) ?? [];
  }

  private async loadGroups(): Promise<void> {
    try {
      const res = await retryRateLimited(() => this.client.usergroups.list({ include_users: true }));
      const byUser = new Map<string, string[]>();
      for (const g of res.usergroups ?? []) {
        for (const u of g.users ?? []) byUser.set(u, [...(byUser.get(u) ?? []), `@${g.handle}`]);
      }
      this.groups = { byUser, at: Date.now() };
    } catch (err) {
      // Without usergroups:read, roles given by user id still work; group roles do not.
      this.logger.warn(
        { err },
        'usergroups.list failed: roles given as @groups will not match (needs the usergroups:read scope); retrying in 10 s',
      );
      // Remember the failure only briefly: a passing outage must not deny incident commanders for minutes.
      this.groups = { byUser: this.groups?.byUser ?? new Map(), at: Date.now() - TTL_MS + 10_000 };
    }
  }
}

/** Channel id → `{ id, name }` for the channel rules in shipbot.yml (which may name `#deploys`). */
export class Channels {
  private names = new Map<string, { name?: string; at: number }>();

  constructor(
    private readonly client: WebClient,
    private readonly logger: Logger,
  ) {}

  async ref(channelId: string, knownName?: string): Promise<{ id: string; name?: string }> {
    if (knownName) return { id: channelId, name: knownName };
    const hit = this.names.get(channelId);
    if (hit && Date.now() - hit.at < TTL_MS) return { id: channelId, name: hit.name };
    try {
      const res = await retryRateLimited(() => this.client.conversations.info({ channel: channelId }));
      const name = res.channel?.name;
      this.names.set(channelId, { name, at: Date.now() });
      return { id: channelId, name };
    } catch (err) {
      this.logger.debug({ err, channelId }, 'conversations.info failed; matching the channel by id only');
      return { id: channelId };
    }
  }
}
