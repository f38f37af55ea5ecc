// Tiny Block Kit constructors that apply the limits as they build, so no caller can produce
// a block Slack would reject.
import { LIMITS, truncate } from './limits.js';

export type Block = Record<string, unknown>;
export type Element = Record<string, unknown>;

export const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) });
export const plain = (text: string, max: number = LIMITS.sectionText) => ({ type: 'plain_text', text: truncate(text, max), emoji: true });

export function section(text: string, extra: Block = {}): Block {
  return { type: 'section', text: mrkdwn(text || ' '), ...extra };
}

export function context(...texts: string[]): Block {
  return { type: 'context', elements: texts.slice(0, LIMITS.contextElements).map((t) => mrkdwn(t || ' ')) };
}

export function header(text: string): Block {
  return { type: 'header', text: plain(text, LIMITS.headerText) };
}

export const divider = (): Block => ({ type: 'divider' });

export interface Confirm {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

export function button(
  label: string,
  actionId: string,
  value: string,
  opts: { style?: 'primary' | 'danger'; confirm?: Confirm } = {},
): Element {
  if (value.length > LIMITS.buttonValue)
    throw new Error(`button value for ${actionId} is ${value.length} characters, over Slack's ${LIMITS.buttonValue}`);
  return {
    type: 'button',
    action_id: actionId,
    text: plain(label, LIMITS.buttonText),
    value,
    ...(opts.style ? { style: opts.style } : {}),
    ...(opts.confirm
      ? {
          confirm: {
            title: plain(opts.confirm.title, LIMITS.confirmTitle),
            text: plain(opts.confirm.text, LIMITS.confirmText),
            confirm: plain(opts.confirm.confirm, 30),
            deny: plain(opts.confirm.deny, 30),
            ...(opts.style === 'danger' ? { style: 'danger' } : {}),
          },
        }
      : {}),
  };
}

export function actions(blockId: string, elements: Element[]): Block {
  return { type: 'actions', block_id: blockId, elements: elements.slice(0, LIMITS.actionsElements) };
}

export function option(text: string, value: string) {
  return { text: plain(text, LIMITS.optionText), value: truncate(value, LIMITS.optionValue) };
}
