// Block Kit's limits, and small helpers that keep our messages inside them. Slack rejects a
// message or view that breaks any of these with `invalid_blocks`; we cut instead, with a count.
// The Slack double (src/slack/double) checks the same numbers, so a test fails like Slack would.

export const LIMITS = {
  messageBlocks: 50,
  viewBlocks: 100,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  optionText: 75,
  optionValue: 150,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  inputLabel: 2000,
  inputInitialValue: 3000,
  blockId: 255,
  actionId: 255,
  messageText: 40_000,
  confirmTitle: 100,
  confirmText: 300,
} as const;

import { truncate } from '../../domain/text.js';

export { truncate };

/**
 * Joins lines into at most `max` characters; when they do not all fit, the last line says how
 * many were left out (`…and 12 more`), so a reader knows the list is longer.
 */
export function joinLinesWithin(lines: string[], max: number, more = (n: number) => `…and ${n} more`): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = truncate(lines[i]!, max);
    const rest = lines.length - i - 1;
    const tail = rest > 0 ? more(rest).length + 1 : 0;
    if (used + line.length + (out.length ? 1 : 0) + tail > max) {
      const left = lines.length - i;
      const note = more(left);
      // Drop lines until the note fits.
      while (out.length && used + note.length + 1 > max) used -= out.pop()!.length + 1;
      out.push(note);
      return out.join('\n');
    }
    used += line.length + (out.length ? 1 : 0);
    out.push(line);
  }
  return out.join('\n');
}

/** Keeps at most `max` items; when cut, the last kept slot becomes `overflow(n)` for the n left out. */
export function capList<T>(items: T[], max: number, overflow: (n: number) => T): T[] {
  if (items.length <= max) return items;
  const kept = items.slice(0, max - 1);
  kept.push(overflow(items.length - kept.length));
  return kept;
}

type Json = Record<string, unknown>;

/** The problems Slack would reject these blocks for (empty when they are fine). */
export function blockProblems(blocks: unknown, kind: 'message' | 'modal'): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks must be an array'];
  const maxBlocks = kind === 'message' ? LIMITS.messageBlocks : LIMITS.viewBlocks;
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks, more than ${maxBlocks}`);
  blocks.forEach((b: Json, i) => {
    const at = `blocks[${i}]`;
    if (typeof b !== 'object' || b === null || typeof b.type !== 'string') {
      problems.push(`${at}: not a block`);
      return;
    }
    if (typeof b.block_id === 'string' && b.block_id.length > LIMITS.blockId) problems.push(`${at}.block_id too long`);
    const text = b.text as Json | undefined;
    switch (b.type) {
      case 'section':
        if (text && String(text.text ?? '').length > LIMITS.sectionText) problems.push(`${at}.text longer than ${LIMITS.sectionText}`);
        if (!text && !Array.isArray(b.fields)) problems.push(`${at}: section needs text or fields`);
        if (text && String(text.text ?? '').length === 0) problems.push(`${at}.text must not be empty`);
        if (Array.isArray(b.fields)) {
          if (b.fields.length > LIMITS.sectionFields) problems.push(`${at}.fields: more than ${LIMITS.sectionFields}`);
          (b.fields as Json[]).forEach((f, j) => {
            if (String(f.text ?? '').length > LIMITS.fieldText) problems.push(`${at}.fields[${j}] longer than ${LIMITS.fieldText}`);
          });
        }
        if (b.accessory) elementProblems(b.accessory as Json, `${at}.accessory`, problems);
        break;
      case 'header':
        if (String(text?.text ?? '').length > LIMITS.headerText) problems.push(`${at}.text longer than ${LIMITS.headerText}`);
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length > LIMITS.contextElements)
          problems.push(`${at}.elements: 1–${LIMITS.contextElements}`);
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || b.elements.length > LIMITS.actionsElements)
          problems.push(`${at}.elements: 1–${LIMITS.actionsElements}`);
        else (b.elements as Json[]).forEach((e, j) => elementProblems(e, `${at}.elements[${j}]`, problems));
        break;
      case 'input': {
        const label = b.label as Json | undefined;
        if (String(label?.text ?? '').length > LIMITS.inputLabel) problems.push(`${at}.label too long`);
        if (b.element) elementProblems(b.element as Json, `${at}.element`, problems);
        break;
      }
      default:
        break;
    }
  });
  return problems;
}

function elementProblems(e: Json, at: string, problems: string[]): void {
  if (typeof e.action_id === 'string' && e.action_id.length > LIMITS.actionId) problems.push(`${at}.action_id too long`);
  if (e.type === 'button') {
    const t = String((e.text as Json | undefined)?.text ?? '');
    if (t.length > LIMITS.buttonText) problems.push(`${at}.text longer than ${LIMITS.buttonText}`);
    if (typeof e.value === 'string' && e.value.length > LIMITS.buttonValue) problems.push(`${at}.value longer than ${LIMITS.buttonValue}`);
  }
  const options = [...((e.options as Json[] | undefined) ?? []), ...(e.initial_option ? [e.initial_option as Json] : [])];
  options.forEach((o, j) => {
    if (String((o.text as Json | undefined)?.text ?? '').length > LIMITS.optionText) problems.push(`${at}.options[${j}].text too long`);
    if (String(o.value ?? '').length > LIMITS.optionValue) problems.push(`${at}.options[${j}].value too long`);
  });
  if (typeof e.initial_value === 'string' && e.initial_value.length > LIMITS.inputInitialValue)
    problems.push(`${at}.initial_value too long`);
}

/** The problems Slack would reject this view for. */
export function viewProblems(view: Json): string[] {
  const problems = blockProblems(view.blocks, 'modal');
  const title = String((view.title as Json | undefined)?.text ?? '');
  if (!title) problems.push('title is required');
  if (title.length > LIMITS.modalTitle) problems.push(`title longer than ${LIMITS.modalTitle}`);
  for (const k of ['submit', 'close'] as const) {
    const t = String((view[k] as Json | undefined)?.text ?? '');
    if (t.length > LIMITS.modalButton) problems.push(`${k} longer than ${LIMITS.modalButton}`);
  }
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > LIMITS.privateMetadata) {
    problems.push(`private_metadata longer than ${LIMITS.privateMetadata}`);
  }
  return problems;
}
