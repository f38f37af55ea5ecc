// The parser: how well it understands the corpus (bench/parse-corpus.ts) per intent, on the part
// its rules were built against and on the held-out part, how often chatter would start something;
// and its throughput, since it runs on every channel message Shipbot sees.
import { readFileSync } from 'node:fs';
import { parseConfig, type ShipbotConfig } from '../src/config.js';
import { parseCommand } from '../src/domain/parse.js';
import { type Case, DEV, HELD_OUT } from './parse-corpus.js';

const PHRASES = [
  'deploy checkout v1.2.3 canary',
  '<@U0SHIPBOT> ship payments 2.0.1 to staging blue-green',
  'release search 1.4.0 to prod',
  'roll out checkout@1.2.3 with 5% → 25% → 100%',
  'deploy chekout v1.2.3 --guidance "zero-downtime, database migration" --regression-threshold 3',
  'I deployed it yesterday',
  'who broke the deploy?',
  'lunch anyone?',
];

/** What a message was read as, in the corpus' words: `intent service version environment`, `none` or `refuse`. */
export function readAs(text: string, cfg: ShipbotConfig, now: Date): string {
  const r = parseCommand(text, cfg, now);
  if (!r.ok) return /never be part of|not a valid version/.test(r.reason) ? 'refuse' : 'none';
  const c = r.command as { intent: string; service?: string; version?: string; environment?: string };
  return [c.intent, c.service ?? '-', c.version ?? '-', c.environment ?? '-'].join(' ');
}

/** Chatter is what must start nothing; a start is any action read from it. */
const ACTIONS = /^(deploy|rollback|cancel|lock|unlock|stop-all|resume-all) /;

export interface Score {
  /** Per expected intent (`none` and `refuse` included): right of total. */
  perIntent: Map<string, { right: number; total: number }>;
  right: number;
  total: number;
  /** Chatter and unsafe messages read as an action. */
  falseStarts: Array<[text: string, got: string]>;
  misses: Array<[text: string, expected: string, got: string]>;
}

export function score(cases: Case[], cfg: ShipbotConfig, now = new Date('2026-11-23T12:00:00Z')): Score {
  const perIntent = new Map<string, { right: number; total: number }>();
  const s: Score = { perIntent, right: 0, total: 0, falseStarts: [], misses: [] };
  for (const [text, expected] of cases) {
    const got = readAs(text, cfg, now);
    const intent = expected.split(' ')[0]!;
    const row = perIntent.get(intent) ?? { right: 0, total: 0 };
    const ok = got === expected;
    row.total++;
    s.total++;
    if (ok) {
      row.right++;
      s.right++;
    } else s.misses.push([text, expected, got]);
    if ((intent === 'none' || intent === 'refuse') && ACTIONS.test(got)) s.falseStarts.push([text, got]);
    perIntent.set(intent, row);
  }
  return s;
}

export async function benchParse() {
  const cfg = parseConfig(readFileSync(new URL('../data/shipbot.yml', import.meta.url), 'utf8'));
  const now = new Date('2026-11-23T12:00:00Z');
  const figures: Array<{ name: string; value: number; unit: string; note?: string }> = [];
  for (const [part, cases] of [
    ['development', DEV],
    ['held-out', HELD_OUT],
  ] as const) {
    const s = score(cases, cfg, now);
    figures.push({ name: `${part} accuracy`, value: (100 * s.right) / s.total, unit: '%', note: `${s.right} of ${s.total} messages` });
    for (const [intent, r] of [...s.perIntent].sort()) {
      figures.push({ name: `${part} accuracy: ${intent}`, value: (100 * r.right) / r.total, unit: '%', note: `${r.right} of ${r.total}` });
    }
    const chatter = cases.filter(([, e]) => e === 'none' || e === 'refuse').length;
    figures.push({
      name: `${part} starts on chatter`,
      value: s.falseStarts.length,
      unit: `of ${chatter}`,
      ...(s.falseStarts.length ? { note: s.falseStarts[0]![0].slice(0, 60) } : {}),
    });
    if (part === 'held-out' && s.misses.length)
      process.stderr.write(`held-out misses:\n${s.misses.map(([t, e, g]) => `  ${t}  →  ${g}  (expected ${e})`).join('\n')}\n`);
  }
  for (let i = 0; i < 2_000; i++) parseCommand(PHRASES[i % PHRASES.length]!, cfg, now); // warm-up
  const n = 50_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parseCommand(PHRASES[i % PHRASES.length]!, cfg, now);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  figures.push(
    {
      name: 'trigger parsing throughput',
      value: n / sec,
      unit: 'messages/s',
      note: `${PHRASES.length} mixed phrasings, requests and chatter`,
    },
    { name: 'trigger parsing mean latency', value: (sec / n) * 1e6, unit: 'µs/message' },
  );
  return figures;
}
