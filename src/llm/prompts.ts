// Prompt templates live in prompts/<name>.md (one per use). This module loads them, checks
// their placeholders against the ones declared here, and fills them. Prompts are never built
// from string fragments elsewhere in the code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** The placeholders each template must use; anything else in a template is a typo. */
export const PROMPT_PLACEHOLDERS = {
  understand: ['catalogue', 'message'],
  guidance: ['plan', 'strategies', 'guidance'],
  investigate: ['facts', 'baseline'],
  lessons: ['facts'],
  stakeholder: ['facts'],
  incident: ['facts'],
} as const;

export type PromptName = keyof typeof PROMPT_PLACEHOLDERS;
export type PromptValues<N extends PromptName> = Record<(typeof PROMPT_PLACEHOLDERS)[N][number], string>;

export interface PromptTemplate<N extends PromptName = PromptName> {
  name: N;
  system: string;
  user: string;
}

export interface FilledPrompt {
  system: string;
  user: string;
}

export class PromptError extends Error {}

/** prompts/ at the repository root, found from this file (works from src/ under tsx). */
export const DEFAULT_PROMPTS_DIR = fileURLToPath(new URL('../../prompts/', import.meta.url));

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

/** Splits `## System` / `## Message` and checks placeholders. Throws PromptError with the file name. */
export function parseTemplate<N extends PromptName>(name: N, text: string, file = `${name}.md`): PromptTemplate<N> {
  const match = /^##\s+System\s*$([\s\S]*?)^##\s+Message\s*$([\s\S]*)$/m.exec(text);
  if (!match) throw new PromptError(`${file}: needs a '## System' section followed by a '## Message' section`);
  const system = match[1]!.trim();
  const user = match[2]!.trim();
  const declared = new Set<string>(PROMPT_PLACEHOLDERS[name]);
  const used = new Set<string>();
  for (const m of text.matchAll(PLACEHOLDER)) used.add(m[1]!);
  const unknown = [...used].filter((p) => !declared.has(p));
  if (unknown.length > 0) {
    throw new PromptError(
      `${file}: unknown placeholder ${unknown.map((p) => `{{${p}}}`).join(', ')}; ` +
        `this template may use ${[...declared].map((p) => `{{${p}}}`).join(', ')}`,
    );
  }
  const unused = [...declared].filter((p) => !used.has(p));
  if (unused.length > 0) {
    throw new PromptError(`${file}: never uses ${unused.map((p) => `{{${p}}}`).join(', ')}, so that data would not reach the model`);
  }
  return { name, system, user };
}

export function loadPrompt<N extends PromptName>(name: N, dir = DEFAULT_PROMPTS_DIR): PromptTemplate<N> {
  const file = path.join(dir, `${name}.md`);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PromptError(`${file}: cannot read the prompt template (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseTemplate(name, text, file);
}

export type PromptSet = { [N in PromptName]: PromptTemplate<N> };

/** Loads every template; the first broken one throws. */
export function loadPrompts(dir = DEFAULT_PROMPTS_DIR): PromptSet {
  const names = Object.keys(PROMPT_PLACEHOLDERS) as PromptName[];
  return Object.fromEntries(names.map((n) => [n, loadPrompt(n, dir)])) as PromptSet;
}

/**
 * Fills a template in one pass, so `{{…}}` inside a filled value is left as typed and never
 * expanded again.
 */
export function fillPrompt<N extends PromptName>(template: PromptTemplate<N>, values: PromptValues<N>): FilledPrompt {
  const lookup = values as Record<string, string>;
  const fill = (s: string) =>
    s.replace(PLACEHOLDER, (_all, key: string) => {
      const v = lookup[key];
      if (v === undefined) throw new PromptError(`${template.name}.md: no value for {{${key}}}`);
      return v;
    });
  return { system: fill(template.system), user: fill(template.user) };
}

/**
 * Makes untrusted text safe to place inside a `<block>…</block>` delimiter: angle brackets
 * become look-alikes, so the text cannot close the block or open a new one.
 */
export function quoteData(text: string): string {
  return text.replace(/</g, '‹').replace(/>/g, '›');
}
