// Firing alerts as a gate (the runbooks' "no alerts triggered"): an alert that matches the service
// and began after the rollout did is the release's finding; critical ones roll back, others ask a
// person (by severity, as the service's `alerts` config says). One that was firing before the
// rollout began is reported, never blamed on the release. Pure.
import type { Finding } from './judge-core.js';

export interface FiringAlert {
  name: string;
  severity: string;
  /** ms since the epoch. */
  startsAt: number;
  labels: Record<string, string>;
}

export interface AlertPolicy {
  rollbackOn: readonly string[];
  askOn: readonly string[];
}

export function judgeAlerts(
  alerts: readonly FiringAlert[],
  since: number,
  policy: AlertPolicy,
  fmtTime: (ms: number) => string,
): Finding[] {
  return alerts.map((a): Finding => {
    const what = `alert ${a.name} (${a.severity || 'no severity'})`;
    if (a.startsAt < since)
      return {
        rule: 'alerts',
        verdict: 'CONTINUE',
        detail: `${what} was already firing before the rollout (since ${fmtTime(a.startsAt)}): not this release's`,
      };
    const fired = `${what} fired at ${fmtTime(a.startsAt)}, after the rollout began`;
    if (policy.rollbackOn.includes(a.severity)) return { rule: 'alerts', verdict: 'ROLLBACK', detail: fired };
    if (policy.askOn.includes(a.severity)) return { rule: 'alerts', verdict: 'INCONCLUSIVE', detail: `${fired}: a person decides` };
    return { rule: 'alerts', verdict: 'CONTINUE', detail: `${fired} (severity not gated)` };
  });
}
