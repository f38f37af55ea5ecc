// The parser against the development part of the corpus (bench/parse-corpus.ts): the kinds of
// asks people use, chatter that must start nothing, and versions changed to be read that must be
// refused. The held-out part is only measured (`npm run bench parse`), never asserted on here.
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from '../../src/config.js';
import { score } from '../../bench/parse.js';
import { DEV, HELD_OUT } from '../../bench/parse-corpus.js';

const cfg = loadConfigFile('data/shipbot.yml');

describe('the parse corpus', () => {
  it('has at least 400 messages, 150 of them that must start nothing, in two parts', () => {
    const all = [...DEV, ...HELD_OUT];
    expect(all.length).toBeGreaterThanOrEqual(400);
    expect(all.filter(([, e]) => e === 'none' || e === 'refuse').length).toBeGreaterThanOrEqual(150);
    // No message is in both parts.
    const dev = new Set(DEV.map(([t]) => t));
    expect(HELD_OUT.filter(([t]) => dev.has(t))).toEqual([]);
  });

  it('reads at least 95% of the development part right, every intent, and starts nothing from chatter', () => {
    const s = score(DEV, cfg);
    expect(s.falseStarts).toEqual([]);
    for (const [intent, r] of s.perIntent) expect(r.right / r.total, `${intent}: ${JSON.stringify(s.misses)}`).toBeGreaterThanOrEqual(0.95);
  });
});
