// With an Anthropic key, a mention the rule parser cannot read goes to Claude (here the local
// Messages API double); its proposal is shown like any request, marked as Claude's reading,
// and nothing starts until a person presses Start. Without a proposal the rule's reason is shown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAnthropicDouble, type AnthropicDouble } from '../../src/llm/anthropic-double.js';
import { createLlm } from '../../src/llm/index.js';
import { createLogger } from '../../src/log.js';
import { actionIds, fastConfig, startHarness, textOf, waitFor, type Harness } from './harness.js';

const KEY = 'sk-ant-test-key-for-the-double';
let claude: AnthropicDouble;
let h: Harness;

beforeAll(async () => {
  claude = await startAnthropicDouble({ apiKey: KEY });
  const llm = createLlm(
    { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: claude.url, SHIPBOT_MODEL: 'claude-sonnet-4-6' },
    { log: createLogger('silent'), maxRetries: 0, timeoutMs: 3000 },
  );
  h = await startHarness({ config: fastConfig(), llm });
});
afterAll(async () => {
  await h?.close();
  await claude?.close();
});

const replies = (ts: string) => h.double.messages('deploys', ts).filter((m) => m.botId && m.ts !== ts);

describe('Slack with Claude', () => {
  it("shows Claude's proposal for free text, for a person to confirm", async () => {
    claude.script({
      kind: 'tool',
      input: {
        isDeployRequest: true,
        service: 'search',
        version: 'v3.3.0',
        strategy: 'canary',
        reading: 'a careful canary of search v3.3.0',
      },
    });
    const sent = await h.double.postUserMessage(
      'U_DEV',
      'deploys',
      '<@U0SHIPBOT> we need the new search build out, the one tagged v3.3.0, carefully please',
    );
    const reply = await waitFor('the proposal', () => replies(sent.ts)[0]);
    const text = textOf(reply);
    expect(text).toContain('search');
    expect(text).toContain('v3.3.0');
    expect(text).toMatch(/🤖/);
    expect(actionIds(reply)).toEqual(['req_configure', 'req_start', 'req_cancel']);
    expect(await h.runner.list()).toHaveLength(0);
    expect(claude.userText(claude.requests.length - 1)).toContain('v3.3.0');
  });

  it("falls back to the rule parser's reason when Claude proposes nothing usable", async () => {
    claude.script({ kind: 'tool', input: { isDeployRequest: false } });
    const asked = claude.requests.length;
    const sent = await h.double.postUserMessage('U_DEV', 'deploys', '<@U0SHIPBOT> how was your weekend');
    const reply = await waitFor('the reason', () => replies(sent.ts)[0]);
    expect(reply.text).toMatch(/^🤔 /);
    expect(claude.requests.length).toBe(asked + 1);
    expect(actionIds(reply)).toEqual([]);
  });
});
