// Canary traffic steps from chat: `5% → 25% → 100%`, `5%->25%->100%`, `5,25,100`, `steps 5 25 100`, `10% 100%`,
// or one share (`canary 10%`), which starts at that share and continues with the configured steps.

export type StepsResult = { ok: true; text: string; steps?: number[]; note?: string } | { ok: false; reason: string };

const NUM = String.raw`\d{1,3}(?:\.\d+)?\s*%?`;
const ARROW = String.raw`\s*(?:->|=>|→|⟶|➔|⇒|>|,|/|\bthen\b|\bto\b)\s*`;
// Not part of a version (1.2.3) or a time (02:00): no word char, dot or colon on either side.
const SEQUENCE = new RegExp(String.raw`(?<![\w.:@-])${NUM}(?:${ARROW}${NUM})+(?![\w.:])`);
const STEPS_WORD = new RegExp(String.raw`\b(?:steps?|stages?)\s*[:=]?\s*(${NUM}(?:\s+(?:then\s+)?${NUM})+)(?![\w.:])`, 'i');
// Shares each with its own %, separated by spaces only: `10% 100%`, `5% 25% 100%`.
const SPACED = /(?<![\w.:@-])\d{1,3}(?:\.\d+)?\s*%(?:\s+\d{1,3}(?:\.\d+)?\s*%)+(?![\w.])/;
const SINGLE = /(?<![\w.:@-])(\d{1,3}(?:\.\d+)?)\s*%(?![\w.])/;

function numbers(s: string): number[] {
  return (s.match(/\d{1,3}(?:\.\d+)?/g) ?? []).map(Number);
}

/** Checks a list of shares and completes it with 100; errors say what is wrong with them. */
export function normaliseSteps(raw: number[]): { ok: true; steps: number[]; note?: string } | { ok: false; reason: string } {
  const shown = (raw.length > 8 ? [...raw.slice(0, 8).map((n) => `${n}%`), '…'] : raw.map((n) => `${n}%`)).join(' → ');
  if (raw.some((n) => !Number.isInteger(n))) return { ok: false, reason: `Canary steps must be whole percentages (got ${shown}).` };
  if (raw.some((n) => n < 1 || n > 100)) return { ok: false, reason: `Canary steps must be between 1% and 100% (got ${shown}).` };
  if (raw.some((n, i) => i > 0 && n <= raw[i - 1])) return { ok: false, reason: `Canary steps must increase (got ${shown}).` };
  if (raw[raw.length - 1] !== 100) return { ok: true, steps: [...raw, 100], note: `added a final 100% step after ${shown}` };
  return { ok: true, steps: raw };
}

/** Finds one step list in `text` and removes it; `defaults` continue a single starting share. */
export function extractCanarySteps(text: string, defaults: number[]): StepsResult {
  const sequence = STEPS_WORD.exec(text) ?? SEQUENCE.exec(text) ?? SPACED.exec(text);
  if (sequence) {
    const parsed = normaliseSteps(numbers(sequence[1] ?? sequence[0]));
    if (!parsed.ok) return parsed;
    return { ok: true, text: text.replace(sequence[0], ' '), steps: parsed.steps, note: parsed.note };
  }
  const single = SINGLE.exec(text);
  if (single) {
    const first = Number(single[1]);
    const parsed = normaliseSteps([first, ...defaults.filter((d) => d > first)]);
    if (!parsed.ok) return parsed;
    return {
      ok: true,
      text: text.replace(single[0], ' '),
      steps: parsed.steps,
      note: first === 100 ? undefined : `started at ${first}% and continued with the configured steps`,
    };
  }
  return { ok: true, text };
}
