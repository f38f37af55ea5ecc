// Text coming back from the model is shown in Slack and reports. It must not ping people or
// channels (an injected log line could ask for that), and it must stay short.

/** Removes Slack mentions/broadcasts and control characters; truncates with an ellipsis. */
export function cleanModelText(text: string, max: number): string {
  const cleaned = text
    .replace(/<[!@#][^>]*>/g, '')
    .replace(/@(channel|here|everyone)\b/gi, '$1')
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/[ \t]+\n/g, '\n')
    .trim();
  return cleaned.length > max ? `${cleaned.slice(0, max - 1).trimEnd()}…` : cleaned;
}

/** One fact line for prompts and threads: single line, bounded. */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
