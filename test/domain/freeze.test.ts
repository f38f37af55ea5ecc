import { describe, expect, it } from 'vitest';
import { activeFreeze, describeFreeze } from '../../src/domain/freeze.js';
import { ConfigError, parseConfig } from '../../src/config.js';
import { readFileSync } from 'node:fs';

const friday = { cron: '* 12-23 * * 5', reason: 'No production deploys on Friday afternoons', environments: ['production' as const] };

describe('freeze windows', () => {
  it('is inside on a Friday afternoon and says when it ends', () => {
    const f = activeFreeze([friday], 'production', new Date('2026-11-27T15:30:00Z')); // a Friday
    expect(f?.reason).toBe(friday.reason);
    expect(f?.endsAt?.toISOString()).toBe('2026-11-28T00:00:00.000Z');
    expect(describeFreeze(f!)).toBe('Deploys are frozen until 2026-11-28 00:00 UTC: No production deploys on Friday afternoons.');
  });

  it('is outside on Friday morning, on Thursday, and for staging', () => {
    expect(activeFreeze([friday], 'production', new Date('2026-11-27T11:59:00Z'))).toBeUndefined();
    expect(activeFreeze([friday], 'production', new Date('2026-11-26T15:00:00Z'))).toBeUndefined();
    expect(activeFreeze([friday], 'staging', new Date('2026-11-27T15:00:00Z'))).toBeUndefined();
  });

  it('honours the window timezone', () => {
    const w = { ...friday, timezone: 'America/New_York' };
    // 15:30 UTC is 10:30 in New York: not yet afternoon there.
    expect(activeFreeze([w], 'production', new Date('2026-11-27T15:30:00Z'))).toBeUndefined();
    expect(activeFreeze([w], 'production', new Date('2026-11-27T18:30:00Z'))).toBeDefined();
  });

  it('rejects a bad cron expression at config load', () => {
    const text = readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8').replace(
      'freezeWindows: []',
      'freezeWindows: [{ cron: "99 * * * *", reason: nope }]',
    );
    expect(() => parseConfig(text)).toThrow(ConfigError);
    try {
      parseConfig(text);
    } catch (e) {
      expect((e as ConfigError).problems[0]).toMatch(/^freezeWindows\[0\]\.cron: /);
    }
  });
});
