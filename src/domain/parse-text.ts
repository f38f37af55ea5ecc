// Chat text, cleaned: Slack markup removed, the bot's address and politeness stripped, phrases
// normalised, and what may never reach a command (paths, shell characters) found.
import type { Flags, Word } from './parse-flags.js';
import type { ParseResult } from './types.js';

export const MAX_TEXT = 4000;
export const EXAMPLE = 'e.g. `deploy checkout v1.2.3 canary`';

export const fail = (reason: string): ParseResult => ({ ok: false, reason });

// ---------------------------------------------------------------------------------------------
// Text clean-up

/** Slack markup → plain text: mentions removed, links to their label, entities decoded. */
export function cleanSlackText(text: string): string {
  return (
    text
      .replace(/<@[UW][A-Z0-9]+(?:\|[^>]*)?>/g, ' ')
      .replace(/<!(?:here|channel|everyone)(?:\|[^>]*)?>/g, ' ')
      .replace(/<!subteam\^[A-Z0-9]+(?:\|([^>]*))?>/g, ' ')
      .replace(/<#[CG][A-Z0-9]+\|([^>]*)>/g, '#$1')
      .replace(/<((?:https?|mailto):[^|>]*)(?:\|([^>]*))?>/g, (_m, url: string, label?: string) => label ?? url)
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&')
      .replace(/```([\s\S]*?)```/g, ' $1 ')
      // Inline code around a whole word is formatting (`v1.2.3`); code joined to other text
      // (v1.2.3-`whoami`) would change the version to be read: its backticks stay and are refused.
      .replace(/(^|\s)`([^`\s]+)`(?=$|\s|[,.!?;:])/g, '$1$2')
      .replace(/(^|\s)\*([^*\s]+)\*(?=\s|$)/g, '$1$2')
      .replace(/(^|\s)~([^~\s]+)~(?=\s|$)/g, '$1$2')
      .replace(/(^|\s)_([^_\s]+)_(?=\s|$|[,.!?;:])/g, '$1$2')
      .replace(/\u200b|\u200c|\u200d|\ufeff/g, '')
      .replace(/\u00a0/g, ' ')
      .trim()
      // A leading emoji (`:rocket:` or 🚀) is decoration: "🚀 deploy checkout v1.2.3" is a request.
      .replace(/^(?:(?::[a-z0-9_+'-]+:|\p{Extended_Pictographic}|\uFE0F|\u200d)\s*)+/u, '')
      .trim()
  );
}

/** Words back to text; a quoted word keeps its spaces as no-break spaces so it stays one word. */
export function joinWords(words: Word[]): string {
  return words
    .map((w) => (w.quoted ? `"${w.text.replace(/ /g, '\u00a0')}"` : w.text))
    .join(' ')
    .trim();
}

export const ADDRESS = /^(?:@?shipbot[,:!]?|hey|hi|hello|yo|ok|okay|ok,|okay,|please|pls|plz|kindly|now|so)$/i;

/** Drops greetings, `@shipbot`, `please`, `let's`, `can you` in front of the instruction. */
export function stripAddress(words: Word[]): { words: Word[]; politeQuestion: boolean } {
  let i = 0;
  let politeQuestion = false;
  for (;;) {
    const w = words[i]?.quoted ? '' : (words[i]?.text.toLowerCase() ?? '');
    const next = words[i + 1]?.text.toLowerCase() ?? '';
    if (ADDRESS.test(w)) i++;
    else if (/^(let'?s|let’s)$/.test(w)) i++;
    else if (w === 'let' && next === 'us') i += 2;
    else if (w === 'go' && next === 'ahead' && words[i + 2]?.text.toLowerCase() === 'and') i += 3;
    else if (/^(can|could|would|will)$/.test(w) && /^you[,]?$/.test(next)) {
      politeQuestion = true;
      i += 2;
    } else break;
  }
  return { words: words.slice(i), politeQuestion };
}

/** Multi-word phrases to single words so the rules below see one token each. */
export function normalisePhrases(text: string): string {
  return text
    .replace(/\broll[- ]?out\b/gi, 'rollout')
    .replace(/\broll[- ]back\b/gi, 'rollback')
    .replace(/\bgo[- ]live\b/gi, 'golive')
    .replace(/\bkick[- ]off\b/gi, 'kickoff')
    .replace(/\bblue\s*(?:[-/&+_]|\s|and)\s*green\b/gi, 'blue-green')
    .replace(/\bred\s*(?:[-/&+_]|\s|and)\s*black\b/gi, 'blue-green')
    .replace(/\brolling\s+(?:update|upgrade|restart)\b/gi, 'rolling')
    .replace(/\bhigh\s+risk\b/gi, 'high-risk')
    .replace(/\blow\s+risk\b/gi, 'low-risk')
    .replace(/\bmedium\s+risk\b/gi, 'medium-risk');
}

/** A path where a version belongs (`../../etc/passwd`, `/tmp/x`): refused, never read as "version missing". */
export function unsafePath(text: string): string | undefined {
  const m = /(?:^|\s)(\S*(?:\.\.[/\\]|[/\\]\.\.)\S*|\/\S+)/.exec(text);
  if (!m) return undefined;
  return `'${m[1]}' is not a valid version: it is a path, and a version is an image tag (letters, digits, '.', '_' and '-'). Nothing was started; retype it, ${EXAMPLE}.`;
}

/** A link in a request that names no version: it stands where the version would (`deploy web https://…/1.2.3`). */
export function linkForVersion(text: string): string | undefined {
  const url = /(?:^|\s)([a-z][a-z0-9+.-]*:\/\/\S*)/i.exec(text);
  if (!url) return undefined;
  return `'${url[1]}' is not a valid version: it is a link, and a version is an image tag (letters, digits, '.', '_' and '-'). Nothing was started; retype it, ${EXAMPLE}.`;
}

/** Characters that can never be part of a service or a version; refusing them stops injection. */
export function shellCharacters(text: string): string | undefined {
  // Arrows between canary steps (`5%->25%`) are the only place `>` belongs.
  const m = /[;|`$<>\\{}]|&&/.exec(text.replace(/-+>|=>/g, ' '));
  if (!m) return undefined;
  return `The request contains '${m[0]}', which can never be part of a service or version (letters, digits, '.', '_' and '-' only). Nothing was started; retype it, ${EXAMPLE}.`;
}

export function hasDeployFlags(f: Flags): boolean {
  return Object.values(f).some((v) => v !== undefined);
}
