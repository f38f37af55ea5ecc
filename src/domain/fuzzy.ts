// Service names from chat: exact name, configured alias, or a small typo of either.
// A typo is only corrected when exactly one service is that close; otherwise we suggest.
import type { ServiceConfig, ShipbotConfig } from './config-schema.js';

/** Damerau–Levenshtein distance (optimal string alignment): a swap of neighbours costs 1. */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the swap rule looks two rows back.
  let prev2 = new Int32Array(b.length + 1);
  let prev = Int32Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur = new Int32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prev2[j - 2] + 1);
      cur[j] = d;
    }
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[b.length];
}

/** Longer than a DNS label: cannot be a service name, so no distance is worth computing. */
const MAX_NAME = 63;

/** How many typos a word of this length may carry and still be corrected: short words none. */
export function allowedTypos(word: string): number {
  if (word.length <= 3) return 0;
  if (word.length <= 5) return 1;
  return 2;
}

export type ServiceResolution =
  | { kind: 'name' | 'alias' | 'typo'; service: ServiceConfig; matched: string; distance: number }
  | { kind: 'unknown'; suggestions: string[] };

function namesOf(s: ServiceConfig): string[] {
  return [s.name, ...s.aliases.map((a) => a.toLowerCase())];
}

/** Resolves one word to a catalogue service, or says which services it may have meant. */
export function resolveService(word: string, cfg: ShipbotConfig): ServiceResolution {
  const key = word.toLowerCase();
  for (const s of cfg.services) {
    if (s.name === key) return { kind: 'name', service: s, matched: s.name, distance: 0 };
  }
  for (const s of cfg.services) {
    const alias = s.aliases.find((a) => a.toLowerCase() === key);
    if (alias) return { kind: 'alias', service: s, matched: alias, distance: 0 };
  }
  if (key.length > MAX_NAME) return { kind: 'unknown', suggestions: [] };
  const scored = cfg.services.map((s) => {
    let best = { distance: Infinity, matched: s.name };
    // Short aliases (`co`, `cart`) only match exactly: `care` or `card` must not become checkout.
    for (const n of namesOf(s).filter((n) => n.length >= 5)) {
      const distance = editDistance(key, n);
      if (distance < best.distance) best = { distance, matched: n };
    }
    return { service: s, ...best };
  });
  const min = Math.min(...scored.map((x) => x.distance));
  const closest = scored.filter((x) => x.distance === min);
  // Never pick between two equally close services: that would be a guess.
  if (min <= allowedTypos(key) && closest.length === 1) {
    const c = closest[0];
    return { kind: 'typo', service: c.service, matched: c.matched, distance: c.distance };
  }
  return { kind: 'unknown', suggestions: suggestServices(key, cfg) };
}

/** "Did you mean": services within a looser distance, or whose name starts with / contains the word. */
export function suggestServices(word: string, cfg: ShipbotConfig, max = 3): string[] {
  const key = word.toLowerCase();
  const hits: Array<{ name: string; score: number }> = [];
  for (const s of cfg.services) {
    let score = Infinity;
    for (const n of namesOf(s)) {
      // Loose: up to half the longer name, but short aliases (`co`) and short words only match exactly.
      const loose = n.length < 4 ? 0 : Math.min(Math.ceil(Math.max(n.length, key.length) / 2), key.length - 1);
      const d = editDistance(key, n);
      if (d <= loose) score = Math.min(score, d);
      if (key.length >= 3 && n.length >= 3 && (n.includes(key) || key.includes(n))) score = Math.min(score, 1);
    }
    if (score < Infinity) hits.push({ name: s.name, score });
  }
  return hits
    .sort((a, b) => a.score - b.score || a.name.localeCompare(b.name))
    .slice(0, max)
    .map((h) => h.name);
}
