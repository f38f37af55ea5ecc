// Triggers and the first reply, through signed HTTP into the Bolt app and the Slack double.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedHeaders } from '../../src/slack/double/index.js';
import { actionIds, fastConfig, startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';

beforeAll(async () => {
  h = await startHarness({
    config: fastConfig((c) => {
      c.roles!.deployers = ['U_DEV', 'U_IC', '@incident-commanders'];
      c.channels.deploy.production = ['#deploys'];
    }),
    double: { echoBotMessages: true },
  });
});
afterAll(async () => {
  await h?.close();
});

const replies = (threadTs: string) => h.double.messages('deploys', threadTs).filter((m) => m.botId && m.ts !== threadTs);

describe('Slack requests', () => {
  it('rejects requests with a bad or missing signature', async () => {
    const body = JSON.stringify({
      type: 'event_callback',
      event_id: 'EvBAD',
      event: { type: 'app_mention', user: 'U_DEV', text: `${BOT} deploy checkout v1.2.3`, channel: 'C0DEPLOYS', ts: '1.000001' },
    });
    const bad = await h.double.driver.sendRaw(body, { 'content-type': 'application/json', ...signedHeaders('wrong-secret', body) });
    expect(bad.status).toBe(401);
    const none = await h.double.driver.sendRaw(body, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    const old = await h.double.driver.sendSigned(body, 'application/json', {}, Math.floor(Date.now() / 1000) - 3600);
    expect(old.status).toBe(401);
    expect(h.double.calls('chat.postMessage')).toHaveLength(0);
  });

  it('answers a mention once although Slack sends it as message and app_mention, and retries it', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy checkout v1.2.3 canary`);
    expect(sent.responses.map((r) => r.status)).toEqual([200, 200]);
    const reply = await waitFor('the request reply', () => replies(sent.ts)[0]);
    // Slack retries the mention as if the first delivery was lost.
    const retried = await h.double.driver.sendEvent(
      {
        type: 'app_mention',
        user: 'U_DEV',
        text: `${BOT} deploy checkout v1.2.3 canary`,
        channel: 'C0DEPLOYS',
        ts: sent.ts,
        event_ts: sent.ts,
      },
      { retryNum: 1 },
    );
    expect(retried.status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(replies(sent.ts)).toHaveLength(1);
    expect(reply.threadTs).toBe(sent.ts);
    const text = textOf(reply);
    expect(text).toContain('checkout');
    expect(text).toContain('v1.2.3');
    expect(text).toMatch(/Recommended strategy:\*? canary/);
    expect(actionIds(reply)).toEqual(['req_configure', 'req_start', 'req_cancel']);
  });

  it('handles a plain `deploy …` message in a channel it is in, and stays quiet on chatter', async () => {
    const chatter = await h.double.postUserMessage('U_DEV', 'deploys', 'lunch anyone?');
    const req = await h.double.postUserMessage('U_DEV', 'deploys', 'deploy payments v2.0.1');
    await waitFor('a reply to the plain request', () => replies(req.ts)[0]);
    expect(textOf(replies(req.ts)[0])).toContain('payments');
    // Slack retries it twice (same event_id, retry headers): still one reply.
    const event = {
      type: 'message',
      channel_type: 'channel',
      user: 'U_DEV',
      text: 'deploy payments v2.0.1',
      channel: 'C0DEPLOYS',
      ts: req.ts,
      event_ts: req.ts,
    };
    const eventId = req.responses[0]!.eventId;
    for (const retryNum of [1, 2])
      expect((await h.double.driver.sendEvent(event, { eventId, retryNum, retryReason: 'http_timeout' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    expect(replies(req.ts)).toHaveLength(1);
    expect(replies(chatter.ts)).toHaveLength(0);
  });

  it('answers every plain message that opens with a deploy verb, refusals included; chatter about deploys stays unanswered', async () => {
    const cases: Array<[string, RegExp]> = [
      ['deploy checkout v1.2.3; rm -rf /', /contains ';', which can never be part of a service or version/],
      ['ship it', /sounds like cheering, not a request/],
      ['🚀 deploy payments v2.0.2', /payments/],
      [':rocket: push search v2.0.2 to production', /search/],
    ];
    const sent: Array<{ ts: string }> = [];
    for (const [text] of cases) sent.push(await h.double.postUserMessage('U_DEV', 'deploys', text));
    const quiet = await Promise.all(
      ['deploys are slow today', 'deploying the docs later, fyi', 'lunch anyone?'].map((t) =>
        h.double.postUserMessage('U_DEV', 'deploys', t),
      ),
    );
    for (const [i, [text, want]] of cases.entries()) {
      const reply = await waitFor(`a reply to ${text}`, () => replies(sent[i]!.ts)[0]);
      expect(textOf(reply), text).toMatch(want);
    }
    await new Promise((r) => setTimeout(r, 300));
    for (const q of quiet) expect(replies(q.ts)).toHaveLength(0);
  });

  it('ignores its own messages and edits (echoed back by Slack)', async () => {
    const before = h.double.calls('chat.postMessage').length;
    // Shipbot's own posts were echoed as bot_message / message_changed events in the tests above;
    // a bot message that reads like a request must not start anything either.
    await h.double.driver.sendEvent({
      type: 'message',
      subtype: 'bot_message',
      bot_id: 'B0SHIPBOT',
      user: 'U0SHIPBOT',
      text: 'deploy checkout v9.9.9',
      channel: 'C0DEPLOYS',
      ts: '1700000000.000100',
    });
    await h.double.driver.sendEvent({
      type: 'message',
      user: 'U0SHIPBOT',
      text: 'deploy checkout v9.9.9',
      channel: 'C0DEPLOYS',
      ts: '1700000000.000200',
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(h.double.calls('chat.postMessage').length).toBe(before);
  });

  it('asks for a missing version instead of guessing, without a Start button', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy checkout`);
    const reply = await waitFor('the reply', () => replies(sent.ts)[0]);
    expect(textOf(reply)).toMatch(/which version/);
    expect(actionIds(reply)).toEqual(['req_configure', 'req_cancel']);
  });

  it('explains why a mention is not a request', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} did you deploy checkout yesterday?`);
    const reply = await waitFor('the reply', () => replies(sent.ts)[0]);
    expect(textOf(reply)).toMatch(/question|not a request/i);
  });

  it('tells people without the deploy role, privately, and starts nothing', async () => {
    const sent = await h.double.postUserMessage('U_OTHER', 'deploys', `${BOT} deploy checkout v1.2.3`);
    const refusal = await waitFor('an ephemeral refusal', () => h.double.ephemerals('U_OTHER').at(-1));
    expect(refusal.text).toMatch(/not allowed to deploy/);
    expect(replies(sent.ts)).toHaveLength(0);
  });

  it('lets a user-group member deploy (roles by @group via usergroups.list)', async () => {
    const sent = await h.double.postUserMessage('U_CAROL', 'deploys', `${BOT} deploy search v3.1.0`);
    await waitFor('a reply', () => replies(sent.ts)[0]);
    expect(h.double.ephemerals('U_CAROL')).toHaveLength(0);
  });

  it('refuses production deploys outside the allowed channels, privately', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploy-announcements', `${BOT} deploy checkout v1.2.3`);
    const refusal = await waitFor('an ephemeral refusal', () => h.double.ephemerals('U_DEV').find((m) => m.channel === 'C0ANNOUNCE'));
    expect(refusal.text).toMatch(/not accepted in this channel.*#deploys/);
    expect(h.double.messages('deploy-announcements', sent.ts).filter((m) => m.botId)).toHaveLength(0);
  });

  it('answers help and status in the thread', async () => {
    const help = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} help`);
    await waitFor('help', () => replies(help.ts)[0]);
    expect(textOf(replies(help.ts)[0])).toContain('/deploy');
    const status = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} status`);
    await waitFor('status', () => replies(status.ts)[0]);
    expect(textOf(replies(status.ts)[0])).toMatch(/Nothing is deploying/);
  });

  it('waits out a 429 on the reply (Retry-After) instead of dropping it', async () => {
    h.double.failNext('chat.postMessage', 1, 1);
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy checkout v1.2.9`);
    await waitFor('the reply after the rate limit', () => replies(sent.ts)[0]);
    const posts = h.double.calls('chat.postMessage').filter((c) => c.args.thread_ts === sent.ts);
    expect(posts.map((c) => c.httpStatus)).toEqual([429, 200]);
  });

  it('a bare `rollback` outside a deploy thread asks which deploy instead of picking one', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', 'rollback');
    const reply = await waitFor('the question', () => replies(sent.ts)[0]);
    expect(reply.text).toMatch(/Which deploy\?/);
  });

  it('Start pressed twice starts one run with one progress message', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy checkout v1.2.10 canary`);
    const reply = await waitFor('the reply', () => replies(sent.ts)[0]);
    await Promise.all([h.double.clickButton('U_DEV', reply.ts, 'req_start'), h.double.clickButton('U_DEV', reply.ts, 'req_start')]);
    const run = await waitFor('the run', async () =>
      (await h.runner.list()).find((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts),
    );
    await waitFor(
      'both presses handled',
      () =>
        h.double.calls('chat.postMessage').filter((c) => c.args.thread_ts === sent.ts && /Starting/.test(String(c.args.text))).length === 2,
    );
    await waitFor(
      'the spare placeholder removed',
      () => replies(sent.ts).filter((m) => /Starting|checkout v1\.2\.10 → production/.test(m.text)).length === 1,
      10_000,
      () => replies(sent.ts).map((m) => m.text),
    );
    expect((await h.runner.list()).filter((r) => r.origin.kind === 'slack' && r.origin.threadTs === sent.ts)).toHaveLength(1);
    await h.runner.command(run.id, 'cancel', { userId: 'U_DEV' });
  });

  it('Cancel closes the request reply without buttons', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} deploy search v3.1.1`);
    const reply = await waitFor('the reply', () => replies(sent.ts)[0]);
    await h.double.clickButton('U_DEV', reply.ts, 'req_cancel');
    await waitFor('the reply to be closed', () => reply.editCount > 0 && actionIds(reply).length === 0);
    expect(textOf(reply)).toMatch(/Cancelled by <@U_DEV>/);
  });
});
