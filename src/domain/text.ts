// Small text helpers for what people read. Pure.

/** Cuts `text` to `max` characters, ending with `…` when it was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  return max <= 1 ? text.slice(0, max) : `${text.slice(0, max - 1)}…`;
}

/**
 * The Service a cluster-local host names when it is in `namespace`: `web`, `web.ns`,
 * `web.ns.svc` and `web.ns.svc.cluster.local` all name `web`; another namespace names none.
 */
export function serviceOfHost(host: unknown, namespace: string): string | undefined {
  if (typeof host !== 'string' || !host) return undefined;
  const [name, ns, ...rest] = host.split('.');
  const suffix = rest.join('.');
  if ((ns !== undefined && ns !== namespace) || (rest.length > 0 && suffix !== 'svc' && suffix !== 'svc.cluster.local')) return undefined;
  return name;
}

/** An actor label ("alice (U_DEV)", store/records.ts actorLabel) as people read it: "alice". */
export function labelName(label: string): string {
  return label.replace(/ \([^()]+\)$/, '');
}

/** The user id inside an actor label, or the label itself when it is a bare id. */
export function labelId(label: string): string {
  return /\(([^()]+)\)$/.exec(label)?.[1] ?? label;
}

/**
 * A wall-clock moment as Slack shows it: in each reader's own time and zone (`<!date>`), with the
 * UTC time as the fallback for clients that cannot.
 */
export function slackDate(wallMs: number): string {
  const utc = `${new Date(wallMs).toISOString().replace('T', ' ').slice(0, 16)} UTC`;
  return `<!date^${Math.floor(wallMs / 1000)}^{date_short_pretty} {time}|${utc}>`;
}

/** Text read outside Slack (reports, the terminal): each `<!date>` as its UTC fallback. */
export function plainDates(text: string): string {
  return text.replace(/<!date\^[^|>]*\|([^>]*)>/g, '$1');
}

/** Who people are, by Slack user id, from actor labels ("alice (U_DEV)") and named requesters. */
export function namesOf(labels: Iterable<string>, known: Iterable<[string, string]> = []): Map<string, string> {
  const names = new Map(known);
  for (const l of labels) {
    const id = /\(([^()]+)\)$/.exec(l)?.[1];
    if (id && !names.has(id)) names.set(id, labelName(l));
  }
  return names;
}

/**
 * Text read outside Slack (a report): people by name. "alice (U_DEV)" → "alice", a mention or a
 * bare id that `names` knows → the name, a mention it does not → "someone"; ids stay in the audit log.
 */
export function withNames(text: string, names: ReadonlyMap<string, string>): string {
  return text
    .replace(/<@([A-Z0-9_]+)(?:\|([^>]*))?>/g, (_, id: string, label?: string) => names.get(id) ?? label ?? 'someone')
    .replace(/ \((U[A-Z0-9_]+)\)/g, (m, id: string) => (names.has(id) ? '' : m))
    .replace(/\b(U[A-Z0-9_]{2,})\b/g, (id: string) => names.get(id) ?? id);
}
