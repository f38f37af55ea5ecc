// Trigger parsing throughput: the rule parser runs on every channel message Shipbot sees.
import { readFileSync } from 'node:fs';
import { parseConfig } from '../src/config.js';
import { parseCommand } from '../src/domain/parse.js';

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

export async function benchParse() {
  const cfg = parseConfig(readFileSync(new URL('../data/shipbot.yml', import.meta.url), 'utf8'));
  const now = new Date('2026-11-23T12:00:00Z');
  for (let i = 0; i < 2_000; i++) parseCommand(PHRASES[i % PHRASES.length]!, cfg, now); // warm-up
  const n = 50_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) parseCommand(PHRASES[i % PHRASES.length]!, cfg, now);
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  return [
    {
      name: 'trigger parsing throughput',
      value: n / sec,
      unit: 'messages/s',
      note: `${PHRASES.length} mixed phrasings, requests and chatter`,
    },
    { name: 'trigger parsing mean latency', value: (sec / n) * 1e6, unit: 'µs/message' },
  ];
}
