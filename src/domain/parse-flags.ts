// Chat text → words and --flags. Quotes group words ("…", '…', and Slack's curly quotes);
// Slack turns `--` into an em dash on some clients, so `—guidance` counts as `--guidance`.
import type { Environment, RiskLevel, Strategy } from './types.js';

export interface Flags {
  guidance?: string;
  interactive?: boolean;
  regressionThresholdPct?: number;
  rollbackOnRegression?: boolean;
  strategy?: Strategy;
  risk?: RiskLevel;
  environment?: Environment;
}

export const KNOWN_FLAGS = [
  '--guidance "…"',
  '--interactive',
  '--regression-threshold N',
  '--rollback-on-regression',
  '--no-rollback-on-regression',
  '--strategy blue-green|canary|rolling',
  '--risk low|medium|high',
  '--env staging|production',
];

export interface Word {
  text: string;
  /** Was written in quotes: keep it as one word even if it holds spaces. */
  quoted: boolean;
}

const OPEN_QUOTES: Record<string, string> = { '"': '"', "'": "'", '“': '”', '”': '”', '‘': '’', '„': '“' };

/** Index of the quote that closes one opened before `from`: it must end a word, so `don't` is no closer. */
function closingQuote(text: string, close: string, from: number): number {
  for (let k = text.indexOf(close, from); k !== -1; k = text.indexOf(close, k + 1)) {
    if (k + 1 >= text.length || /[\s,.!?;:)]/.test(text[k + 1])) return k;
  }
  return -1;
}

/** Splits on whitespace; a quote at the start of a word (or after `=`) runs to its closing quote. */
export function splitWords(text: string): Word[] {
  const words: Word[] = [];
  let i = 0;
  while (i < text.length) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (i >= text.length) break;
    const close = OPEN_QUOTES[text[i]];
    const end = close ? closingQuote(text, close, i + 1) : -1;
    if (end > i) {
      words.push({ text: text.slice(i + 1, end), quoted: true });
      i = end + 1;
      continue;
    }
    let word = '';
    let quoted = false;
    while (i < text.length && !/\s/.test(text[i])) {
      const q = text[i] === '=' ? OPEN_QUOTES[text[i + 1]] : undefined;
      const qEnd = q ? closingQuote(text, q, i + 2) : -1;
      if (qEnd > i) {
        // `--guidance="a b"`: the quoted part belongs to the same word.
        word += `=${text.slice(i + 2, qEnd)}`;
        quoted = true;
        i = qEnd + 1;
        continue;
      }
      word += text[i++];
    }
    words.push({ text: word, quoted });
  }
  return words;
}

export function strategyWord(w: string): Strategy | undefined {
  const k = w.toLowerCase();
  if (['canary', 'canaries', 'canaried'].includes(k)) return 'canary';
  if (['blue-green', 'bluegreen', 'blue/green', 'blue_green', 'b/g', 'bg', 'red-black', 'red/black'].includes(k)) return 'blue-green';
  if (['rolling', 'rolling-update', 'rollingupdate', 'rolling-restart'].includes(k)) return 'rolling';
  return undefined;
}

export function environmentWord(w: string): Environment | undefined {
  const k = w.toLowerCase();
  if (['prod', 'production', 'prd', 'prod-env'].includes(k)) return 'production';
  if (['staging', 'stg', 'stage', 'staging-env'].includes(k)) return 'staging';
  return undefined;
}

export function riskWord(w: string): RiskLevel | undefined {
  const k = w.toLowerCase();
  if (['high', 'hi', 'h'].includes(k)) return 'high';
  if (['medium', 'med', 'm', 'normal'].includes(k)) return 'medium';
  if (['low', 'lo', 'l'].includes(k)) return 'low';
  return undefined;
}

export type FlagResult = { ok: true; flags: Flags; rest: Word[]; notes: string[] } | { ok: false; reason: string };

/** Takes the --flags out of the words; any unknown or malformed flag is an error, never ignored. */
export function extractFlags(words: Word[]): FlagResult {
  const flags: Flags = {};
  const notes: string[] = [];
  const rest: Word[] = [];
  const known = `Known options: ${KNOWN_FLAGS.join(', ')}.`;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const raw = w.text.replace(/^[—–]/, '--');
    if (w.quoted && !raw.startsWith('--')) {
      rest.push(w);
      continue;
    }
    // Single-dash words (`-rf`) are not our options; the parser refuses them with the rest of the text.
    if (!/^--[A-Za-z]/.test(raw)) {
      rest.push(w);
      continue;
    }
    const eq = raw.indexOf('=');
    const name = (eq === -1 ? raw : raw.slice(0, eq)).toLowerCase();
    let inline = eq === -1 ? undefined : raw.slice(eq + 1);
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = words[i + 1];
      if (!next || /^(--|[—–])/.test(next.text)) return undefined;
      i++;
      return next.text;
    };
    switch (name) {
      case '--guidance': {
        if (inline === undefined && words[i + 1]?.quoted) inline = words[++i].text;
        else if (!w.quoted) {
          // Unquoted: the words up to the next flag.
          const parts: string[] = inline ? [inline] : [];
          while (words[i + 1] && !/^(--|[—–])/.test(words[i + 1].text)) parts.push(words[++i].text);
          inline = parts.join(' ');
        }
        inline ??= '';
        if (!inline.trim()) return { ok: false, reason: `--guidance needs text, e.g. --guidance "zero downtime, database migration".` };
        if (inline.length > 2000) return { ok: false, reason: `--guidance is ${inline.length} characters; keep it under 2000.` };
        flags.guidance = inline.trim();
        break;
      }
      case '--interactive':
        flags.interactive = true;
        break;
      case '--regression-threshold':
      case '--regression-threshold-pct': {
        const v = value();
        const n = v === undefined ? NaN : Number(v.replace(/%$/, ''));
        if (!/^\d+(\.\d+)?%?$/.test(v ?? '') || !(n >= 0 && n <= 100)) {
          return {
            ok: false,
            reason: `--regression-threshold needs a percentage from 0 to 100 (got ${v === undefined ? 'nothing' : `'${v}'`}), e.g. --regression-threshold 2.`,
          };
        }
        flags.regressionThresholdPct = n;
        break;
      }
      case '--rollback-on-regression':
        flags.rollbackOnRegression = true;
        break;
      case '--no-rollback-on-regression':
        flags.rollbackOnRegression = false;
        break;
      case '--strategy': {
        const v = value();
        const s = v === undefined ? undefined : strategyWord(v);
        if (!s)
          return { ok: false, reason: `--strategy must be blue-green, canary or rolling (got ${v === undefined ? 'nothing' : `'${v}'`}).` };
        flags.strategy = s;
        break;
      }
      case '--risk': {
        const v = value();
        const r = v === undefined ? undefined : riskWord(v);
        if (!r) return { ok: false, reason: `--risk must be low, medium or high (got ${v === undefined ? 'nothing' : `'${v}'`}).` };
        flags.risk = r;
        break;
      }
      case '--env':
      case '--environment': {
        const v = value();
        const e = v === undefined ? undefined : environmentWord(v);
        if (!e) return { ok: false, reason: `--env must be staging or production (got ${v === undefined ? 'nothing' : `'${v}'`}).` };
        flags.environment = e;
        break;
      }
      default:
        return { ok: false, reason: `Unknown option '${name}'. ${known}` };
    }
  }
  return { ok: true, flags, rest, notes };
}
