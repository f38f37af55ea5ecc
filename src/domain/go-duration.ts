// Durations as Kubernetes controllers written in Go read them (Argo Rollouts' pause, Flux's
// interval): an integer of seconds, digits, or a Go duration such as 60s, 5m, 1h, 1h30m.

/** Seconds, or undefined when `d` is absent or not a duration. */
export function goDurationSeconds(d: string | number | undefined | null): number | undefined {
  if (d === undefined || d === null) return undefined;
  if (typeof d === 'number') return Number.isFinite(d) && d >= 0 ? d : undefined;
  if (/^\d+$/.test(d)) return Number(d);
  const parts = [...d.matchAll(/(\d+(?:\.\d+)?)(h|m|s)/g)];
  if (!parts.length || parts.map((p) => p[0]).join('') !== d) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * (p[2] === 'h' ? 3600 : p[2] === 'm' ? 60 : 1), 0);
}
