// manifest.yml matches what the app does: the command it registers, the events it listens to,
// and a scope for every Web API method src/slack calls.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const manifest = parse(readFileSync('manifest.yml', 'utf8')) as {
  display_information: { name: string; description: string; long_description?: string };
  features: { bot_user: { display_name: string }; slash_commands: Array<{ command: string }> };
  oauth_config: { scopes: { bot: string[] } };
  settings: { event_subscriptions: { bot_events: string[] }; interactivity: { is_enabled: boolean }; socket_mode_enabled: boolean };
};

/** The scope each Web API method needs (views.* need none beyond interactivity). */
const SCOPES: Record<string, string | null> = {
  'chat.postMessage': 'chat:write',
  'chat.update': 'chat:write',
  'chat.delete': 'chat:write',
  'chat.postEphemeral': 'chat:write',
  'views.open': null,
  'views.update': null,
  'views.push': null,
  'users.info': 'users:read',
  'usergroups.list': 'usergroups:read',
  'conversations.info': 'channels:read',
  'files.uploadV2': 'files:write',
};

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = path.join(dir, f);
    if (statSync(p).isDirectory()) return f === 'double' ? [] : sources(p);
    return p.endsWith('.ts') ? [readFileSync(p, 'utf8')] : [];
  });
}

describe('manifest.yml', () => {
  it('describes the bot, /deploy, interactivity and Socket Mode within Slack limits', () => {
    expect(manifest.display_information.name).toBe('Shipbot');
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
    const long = manifest.display_information.long_description ?? '';
    expect(long.length).toBeGreaterThanOrEqual(175);
    expect(long.length).toBeLessThanOrEqual(4000);
    expect(manifest.features.bot_user.display_name).toBe('shipbot');
    expect(manifest.features.slash_commands.map((c) => c.command)).toEqual(['/deploy']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
  });

  it('subscribes to the events the app handles, with their scopes', () => {
    const events = manifest.settings.event_subscriptions.bot_events;
    const scopes = manifest.oauth_config.scopes.bot;
    expect(events).toEqual(expect.arrayContaining(['app_mention', 'message.channels']));
    const needs: Record<string, string> = {
      app_mention: 'app_mentions:read',
      'message.channels': 'channels:history',
      'message.groups': 'groups:history',
      'message.im': 'im:history',
    };
    for (const e of events) expect(scopes, e).toContain(needs[e]);
    expect(scopes).toContain('commands');
  });

  it('grants a scope for every Web API method src/slack calls', () => {
    const text = sources('src/slack').join('\n');
    const called = new Set(
      [...text.matchAll(/client\.(chat|views|users|usergroups|conversations|reactions|files)\.(\w+)\(/g)].map((m) => `${m[1]}.${m[2]}`),
    );
    expect(called.size).toBeGreaterThan(3);
    for (const method of called) {
      expect(Object.keys(SCOPES), `no scope known for ${method}`).toContain(method);
      const scope = SCOPES[method];
      if (scope) expect(manifest.oauth_config.scopes.bot, method).toContain(scope);
    }
  });
});
