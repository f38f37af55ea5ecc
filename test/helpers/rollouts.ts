// The shipped config with checkout's production environment an Argo Rollouts Rollout (the
// sandbox's demo seeds it as a canary Rollout with DEMO_ROLLOUT_STEPS), and its metric queries
// selecting by version: a Rollout's stable and canary pods share every label but the image.
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { parseConfig, type ShipbotConfig } from '../../src/config.js';

export function rolloutConfig(opts: { staging?: boolean } = {}): ShipbotConfig {
  const raw = parse(readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8'));
  for (const s of raw.services) {
    if (!opts.staging) delete s.environments.staging;
    if (s.name !== 'checkout') continue;
    const prod = s.environments.production;
    delete prod.deployment;
    prod.rollout = 'checkout';
    s.metrics = Object.fromEntries(
      Object.entries(s.metrics as Record<string, string>).map(([k, q]) => [k, q.replaceAll('track="{{track}}"', 'version="{{version}}"')]),
    );
  }
  return parseConfig(stringify(raw));
}
