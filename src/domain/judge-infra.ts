// The infrastructure rules: roll back at once on an OOM kill, a crash loop, an image that cannot be
// pulled, a missed progress deadline, an update its own controller aborted, too many restarts, or
// too many pods failing health checks.
import type { Decision, InfraSignal } from './types.js';
import { type Finding, type JudgeRules, combine, plural } from './judge-core.js';

export function judgeInfra(signals: readonly InfraSignal[], rules: Pick<JudgeRules, 'restartsIn5Min' | 'failingHealthPct'>): Decision {
  const findings: Finding[] = [];
  for (const s of signals) {
    switch (s.kind) {
      case 'oom-killed':
        findings.push({ rule: 'oom', verdict: 'ROLLBACK', detail: `container ${s.container} of pod ${s.pod} was OOMKilled` });
        break;
      case 'crash-loop':
        findings.push({
          rule: 'crash-loop',
          verdict: 'ROLLBACK',
          detail: `container ${s.container} of pod ${s.pod} is in CrashLoopBackOff`,
        });
        break;
      case 'image-pull':
        findings.push({ rule: 'image-pull', verdict: 'ROLLBACK', detail: `pod ${s.pod} cannot pull its image: ${s.message}` });
        break;
      case 'progress-deadline':
        findings.push({
          rule: 'progress-deadline',
          verdict: 'ROLLBACK',
          detail: `deployment ${s.deployment} missed its progress deadline: ${s.message}`,
        });
        break;
      case 'controller-aborted':
        findings.push({
          rule: 'controller-aborted',
          verdict: 'ROLLBACK',
          detail: `${s.workload} was aborted by its controller: ${s.message}`,
        });
        break;
      case 'restarts': {
        if (!(s.restarts >= 0) || !Number.isFinite(s.restarts) || !(s.windowSec > 0) || !Number.isFinite(s.windowSec)) {
          findings.push({
            rule: 'restarts',
            verdict: 'INCONCLUSIVE',
            detail: `pod ${s.pod}: restart count unreadable (${s.restarts} in ${s.windowSec} s)`,
          });
          break;
        }
        // "more than N restarts in 5 minutes": longer windows are scaled to a 5-minute rate.
        const per5Min = s.windowSec > 300 ? (s.restarts * 300) / s.windowSec : s.restarts;
        const over = per5Min > rules.restartsIn5Min;
        findings.push({
          rule: 'restarts',
          verdict: over ? 'ROLLBACK' : 'CONTINUE',
          detail: `pod ${s.pod} restarted ${plural(s.restarts, 'time')} in ${Math.round(s.windowSec)} s (${over ? 'more than' : 'within'} ${rules.restartsIn5Min} in 5 min allowed)`,
        });
        break;
      }
      case 'readiness': {
        if (!Number.isInteger(s.total) || !Number.isInteger(s.failing) || s.total <= 0 || s.failing < 0 || s.failing > s.total) {
          findings.push({
            rule: 'readiness',
            verdict: 'INCONCLUSIVE',
            detail: `pod health unreadable: ${s.failing} failing of ${s.total} pods`,
          });
          break;
        }
        const pct = (100 * s.failing) / s.total;
        const over = pct > rules.failingHealthPct;
        findings.push({
          rule: 'readiness',
          verdict: over ? 'ROLLBACK' : 'CONTINUE',
          detail: `${s.failing} of ${plural(s.total, 'pod')} failing health checks (${pct.toFixed(0)}%, ${over ? 'more than' : 'within'} ${rules.failingHealthPct}% allowed)`,
        });
        break;
      }
    }
  }
  return combine(findings, 'no infrastructure problems (restarts, OOM, image pull, readiness)');
}

export function isFatalInfra(signals: readonly InfraSignal[], rules: Pick<JudgeRules, 'restartsIn5Min' | 'failingHealthPct'>): boolean {
  return judgeInfra(signals, rules).verdict === 'ROLLBACK';
}

// ---------------------------------------------------------------------------------------------
// Metric comparison
