// The local workspace's HTTP API over the Slack double, without a browser: input validation,
// who hears what over SSE, mentions, and the saved workspace surviving a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseStartArgs } from '../../src/commands/start.js';
import { toSlackText } from '../../src/local/input.js';
import { persistWorkspace } from '../../src/local/persist.js';
import { localPeople } from '../../src/local/people.js';
import { startLocalWorkspace, type LocalWorkspace } from '../../src/local/server.js';
import { loadConfigFile } from '../../src/config.js';
import { startSlackDouble, type SlackDouble } from '../../src/slack/double/index.js';
import { Workspace } from '../../src/slack/double/workspace.js';

describe('local workspace API', () => {
  let double: SlackDouble;
  let ws: LocalWorkspace;
  const config = loadConfigFile(path.resolve('data/shipbot.yml'));

  beforeAll(async () => {
    double = await startSlackDouble({ botToken: 'xoxb-local-test', signingSecret: 'local-secret' });
    ws = await startLocalWorkspace({ double, people: localPeople(config, double.workspace.users.values()), port: 0 });
  });
  afterAll(async () => {
    await ws?.close();
    await double?.close();
  });

  let token = '';
  const post = async (p: string, body: unknown) => {
    token ||= ((await (await fetch(`${ws.url}/api/bootstrap`)).json()) as { token: string }).token;
    return fetch(`${ws.url}${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-shipbot-token': token },
      body: JSON.stringify(body),
    });
  };
  const botPost = (args: Record<string, unknown>) =>
    fetch(`${double.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${double.botToken}` },
      body: JSON.stringify(args),
    }).then((r) => r.json() as Promise<Record<string, unknown>>);

  it('serves the page and its assets', async () => {
    const html = await (await fetch(ws.url)).text();
    expect(html).toContain('/static/app.js');
    for (const asset of ['/static/app.js', '/static/blocks.js', '/static/sandbox.js', '/static/style.css']) {
      expect((await fetch(`${ws.url}${asset}`)).status, asset).toBe(200);
    }
  });

  it('lists the people with what data/shipbot.yml lets them do', async () => {
    const boot = (await (await fetch(`${ws.url}/api/bootstrap`)).json()) as {
      people: Array<{ id: string; role: string }>;
      channels: Array<{ name: string }>;
    };
    const ivan = boot.people.find((p) => p.id === 'U_IC')!;
    const bob = boot.people.find((p) => p.id === 'U_OTHER')!;
    expect(ivan.role).toMatch(/incident commander · .*roll back \/ accept any run/);
    expect(bob.role).toMatch(/stakeholder · .*own runs/);
    expect(boot.channels.map((c) => c.name).slice(0, 2)).toEqual(['deploys', 'deploy-announcements']);
  });

  it('answers 400 with the reason when the page sends something malformed', async () => {
    const res = await post('/api/click', { user: 'U_DEV', messageTs: 'yesterday', actionId: 'x' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { detail: string }).detail).toMatch(/messageTs/);
    expect((await post('/api/nope', {})).status).toBe(400);
  });

  it('streams bot messages to everyone and ephemerals only to their person', async () => {
    const heard: Record<string, string[]> = { U_DEV: [], U_OTHER: [] };
    const controllers: AbortController[] = [];
    await Promise.all(
      Object.keys(heard).map(async (user) => {
        const ac = new AbortController();
        controllers.push(ac);
        const res = await fetch(`${ws.url}/api/events?user=${user}`, { signal: ac.signal });
        const reader = res.body!.getReader();
        void (async () => {
          const dec = new TextDecoder();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) return;
              heard[user]!.push(dec.decode(value));
            }
          } catch {
            // aborted at the end of the test
          }
        })();
        // Wait for the hello event, so the stream is registered before anything is posted.
        await expect.poll(() => heard[user]!.join('')).toContain('event: hello');
      }),
    );
    expect((await botPost({ channel: 'deploys', text: 'for everyone' })).ok).toBe(true);
    const eph = await fetch(`${double.apiUrl}chat.postEphemeral`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${double.botToken}` },
      body: JSON.stringify({ channel: 'deploys', user: 'U_DEV', text: 'only for alice' }),
    }).then((r) => r.json() as Promise<{ ok: boolean }>);
    expect(eph.ok).toBe(true);
    await expect.poll(() => heard.U_DEV!.join('')).toContain('only for alice');
    await expect.poll(() => heard.U_OTHER!.join('')).toContain('for everyone');
    expect(heard.U_OTHER!.join('')).not.toContain('only for alice');
    for (const c of controllers) c.abort();
  });

  it('accepts only the page: exact Host, same Origin, JSON, its token, and bodies up to 64 kB', async () => {
    const send = { user: 'U_DEV', channel: 'C0DEPLOYS', text: 'hello from elsewhere' };
    const before = double.workspace.messages.length;
    const { port } = new URL(ws.url);
    const raw = (headers: Record<string, string>, body: string, method = 'POST', path = '/api/send') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path, method, headers: { 'content-length': Buffer.byteLength(body), ...headers } },
          (res) => {
            let b = '';
            res.on('data', (d) => (b += d));
            res.on('end', () => resolve({ status: res.statusCode!, body: b }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    token ||= ((await (await fetch(`${ws.url}/api/bootstrap`)).json()) as { token: string }).token;
    const json = JSON.stringify(send);
    const good = { host: `127.0.0.1:${port}`, 'content-type': 'application/json', 'x-shipbot-token': token };
    // A page on another site posting text/plain (no preflight), with or without the token.
    expect((await raw({ ...good, origin: 'http://evil.example', 'content-type': 'text/plain' }, json)).status).toBe(403);
    expect((await raw({ ...good, 'content-type': 'text/plain' }, json)).status).toBe(415);
    // DNS rebinding: the right address under another name.
    expect((await raw({ ...good, host: `evil.example:${port}` }, json)).status).toBe(421);
    expect((await raw({ host: `evil.example:${port}` }, '', 'GET', '/api/state?user=U_DEV')).status).toBe(421);
    // No token, or a stale one from before a restart.
    expect((await raw({ ...good, 'x-shipbot-token': '' }, json)).status).toBe(403);
    expect(JSON.parse((await raw({ ...good, 'x-shipbot-token': 'old' }, json)).body)).toMatchObject({ error: 'bad_token' });
    // 200 MB used to be buffered before a 400: now 413 at once, unread.
    expect((await raw(good, 'x'.repeat(65 * 1024))).status).toBe(413);
    expect(double.workspace.messages.length).toBe(before);
    // The page itself (same Origin, JSON, its token) gets past the door: here to the input check.
    const click = JSON.stringify({ user: 'U_DEV', messageTs: 'yesterday', actionId: 'x' });
    for (const [host, origin] of [
      [`127.0.0.1:${port}`, `http://127.0.0.1:${port}`],
      [`localhost:${port}`, `http://localhost:${port}`],
    ]) {
      const r = await raw({ ...good, host: host!, origin: origin! }, click, 'POST', '/api/click');
      expect([r.status, JSON.parse(r.body).error]).toEqual([400, 'bad_request']);
    }
  });

  it('turns a typed @shipbot into the mention Slack delivers', () => {
    expect(toSlackText('@shipbot deploy search v2', 'U0SHIPBOT')).toBe('<@U0SHIPBOT> deploy search v2');
    expect(toSlackText('mail me@shipbot.dev', 'U0SHIPBOT')).toBe('mail me@shipbot.dev');
  });
});

describe('saved local workspace', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shipbot-ws-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps threads and files across a restart', () => {
    const file = path.join(dir, 'local-workspace.json');
    const first = new Workspace();
    const saved = persistWorkspace(first, file);
    const channel = first.channel('deploys')!.id;
    const parent = first.addMessage({ channel, user: 'U_DEV', text: 'deploy checkout v1.2.3' });
    first.addMessage({
      channel,
      threadTs: parent.ts,
      user: first.botUserId,
      botId: first.botId,
      text: 'report',
      files: [{ id: 'F1', name: 'r-1.md', title: 'Report', content: '# Report' }],
    });
    saved.flush();

    const second = new Workspace();
    persistWorkspace(second, file).flush();
    const thread = second.visibleMessages('deploys', parent.ts);
    expect(thread.map((m) => m.text)).toEqual(['deploy checkout v1.2.3', 'report']);
    expect(thread[1]!.files?.[0]?.content).toBe('# Report');
  });
});

describe('shipbot start arguments', () => {
  it('reads --sandbox and --port, and explains bad ones', () => {
    expect(parseStartArgs([])).toEqual({ sandbox: false });
    expect(parseStartArgs(['--sandbox', '--port', '3001'])).toEqual({ sandbox: true, port: 3001 });
    expect(parseStartArgs(['--port', 'abc'])).toMatchObject({ error: expect.stringMatching(/--port must be a port number/) });
    expect(parseStartArgs(['--bogus'])).toMatchObject({ error: expect.stringMatching(/usage: shipbot start/) });
  });
});
