// Shared fixtures for the domain tests: the shipped demo config and a fixed "now".
import { readFileSync } from 'node:fs';
import { parseConfig, type ShipbotConfig } from '../../src/config.js';

export const shippedConfig: ShipbotConfig = parseConfig(
  readFileSync(new URL('../../data/shipbot.yml', import.meta.url), 'utf8'),
  'data/shipbot.yml',
);

/** Monday 2026-11-23 14:15 UTC. */
export const NOW = new Date('2026-11-23T14:15:00.000Z');

/** The shipped config with changes, validated the same way. */
// biome-ignore lint/suspicious/noExplicitAny: tests edit the raw YAML shape freely; parseConfig checks it
export function configWith(patch: (raw: Record<string, any>) => void): ShipbotConfig {
  // biome-ignore lint/suspicious/noExplicitAny: as above
  const raw = JSON.parse(JSON.stringify(shippedConfig)) as Record<string, any>;
  patch(raw);
  return parseConfig(JSON.stringify(raw), 'patched');
}
