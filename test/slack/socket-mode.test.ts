// Socket Mode: the app opens its connection through SLACK_API_URL (apps.connections.open with
// the app token) and receives events, slash commands and interactions as envelopes it acks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { actionIds, startHarness, textOf, waitFor, type Harness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ socketMode: true });
});
afterAll(async () => {
  await h?.close();
});

describe('Socket Mode', () => {
  it('connects with the app token through the configured Web API URL', () => {
    expect(h.double.calls('apps.connections.open').map((c) => c.response.ok)).toEqual([true]);
  });

  it('answers a mention once (message + app_mention envelopes) and opens the modal from Configure…', async () => {
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> deploy checkout v1.2.3 canary');
    const reply = await waitFor('the reply', () => h.double.messages('deploys', sent.ts).find((m) => m.botId && m.ts !== sent.ts));
    expect(textOf(reply)).toMatch(/Recommended strategy/);
    await h.double.clickButton('U_DEV', reply.ts, 'req_configure');
    const view = await waitFor('the modal', () => h.double.openViews('U_DEV').at(-1));
    const res = await h.double.submitView('U_DEV', view.id, { availabilityPct: '250' });
    expect(Object.keys(res.errors ?? {})).toEqual(['availabilityPct']);
    expect(actionIds(reply)).toEqual(['req_configure', 'req_start', 'req_cancel']);
    expect(h.double.messages('deploys', sent.ts).filter((m) => m.botId && m.ts !== sent.ts)).toHaveLength(1);
  });

  it('answers /deploy help in the acknowledgement', async () => {
    const res = await h.double.slashCommand('U_DEV', '/deploy', 'help');
    expect(res.body).toMatchObject({ response_type: 'ephemeral' });
  });
});
