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
