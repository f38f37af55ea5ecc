// "stop all deploys <reason>" and "resume deploys", as an incident commander types them.
import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/domain/parse.js';
import { NOW, shippedConfig } from './helpers.js';

describe('stop the line, as typed', () => {
  it.each([
    ['stop all deploys db outage, INC-7', { intent: 'stop-all', reason: 'db outage, INC-7' }],
    ['halt the line: payments down', { intent: 'stop-all', reason: 'payments down' }],
    ['resume deploys', { intent: 'resume-all' }],
    ['resume all deployments', { intent: 'resume-all' }],
  ])('%s', (text, command) => {
    expect(parseCommand(text, shippedConfig, NOW)).toEqual({ ok: true, command });
  });
  it('needs a reason, and "stop deploying checkout" stays a negation', () => {
    const bare = parseCommand('stop all deploys', shippedConfig, NOW);
    expect(bare.ok).toBe(false);
    if (!bare.ok) expect(bare.reason).toMatch(/Say why/);
    expect(parseCommand('stop deploying checkout', shippedConfig, NOW).ok).toBe(false);
  });
});
