// The trust review's Medium findings through Slack (issue 32): signed requests into Bolt, the Web
// API double answering users.info as Slack does for guests and Slack Connect users.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_USERS } from '../../src/slack/double/workspace.js';
import { fastConfig, startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness;
const BOT = '<@U0SHIPBOT>';

beforeAll(async () => {
  h = await startHarness({
    config: fastConfig(),
    double: {
      users: [...DEFAULT_USERS, { id: 'U_GUEST', name: 'gina', guest: 'ultra' }, { id: 'U_EXT', name: 'eric', teamId: 'T_OTHER' }],
    },
  });
});
afterAll(async () => {
  await h?.close();
});

const botReplies = (threadTs: string) => h.double.messages('deploys', threadTs).filter((m) => m.botId && m.ts !== threadTs);

describe('trust, through Slack', () => {
  it.each([
    ['a single-channel guest', 'U_GUEST', /guests may deploy to production only when roles.deployers names them/],
    [
      'a Slack Connect user of another workspace',
      'U_EXT',
      /people from another workspace may deploy to production only when roles.deployers names them/,
    ],
  ])('%s is refused a production deploy under deployers: ["*"]', async (_who, user, why) => {
    await h.double.postUserMessage(user, 'deploys', `${BOT} deploy checkout v1.2.3 canary`);
    const refusal = await waitFor('a private refusal', () => h.double.ephemerals(user).find((m) => why.test(textOf(m))));
    expect(textOf(refusal)).toMatch(why);
  });

  it('locking needs the deploy role: a guest cannot lock production; a member can, and only they or an incident commander lift it', async () => {
    const asked = await h.double.postUserMessage('U_GUEST', 'deploys', `${BOT} lock checkout production incident`);
    const refused = await waitFor('the lock refusal', () =>
      botReplies(asked.ts).find((m) => /may not lock|only when roles/.test(textOf(m))),
    );
    expect(textOf(refused)).toMatch(/⚠️/);
    expect(await h.runner.getLock('checkout', 'production')).toBeUndefined();

    const locked = await h.double.postUserMessage('U_DEV', 'deploys', `${BOT} lock checkout production incident`);
    await waitFor('the lock', () => botReplies(locked.ts).find((m) => /🔒/.test(textOf(m))));
    const bob = await h.double.postUserMessage('U_OTHER', 'deploys', `${BOT} unlock checkout production`);
    const no = await waitFor('the unlock refusal', () => botReplies(bob.ts)[0]);
    expect(textOf(no)).toMatch(/Only alice, who locked it, or an incident commander/);
    const ivan = await h.double.postUserMessage('U_IC', 'deploys', `${BOT} unlock checkout production`);
    await waitFor('the unlock', () => botReplies(ivan.ts).find((m) => /🔓/.test(textOf(m))));
    expect(await h.runner.getLock('checkout', 'production')).toBeUndefined();
  });
});
