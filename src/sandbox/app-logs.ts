// What the sandbox's apps and migration Jobs print, for `kubectl logs`: enough to investigate a
// fault, and as careless as real tools (a migration prints its database URL, password and all).
import type { Fault } from './behaviour.js';

/** The password a careless migration tool prints in the sandbox: Shipbot must never pass it on. */
export const SANDBOX_DB_PASSWORD = 's3cret-db-pass';

/** A serving app's log for its fault. */
export function appLog(service: string, version: string, fault: Fault): string[] {
  const lines = [`level=info msg="starting ${service}" version=${version} addr=:8080`];
  if (fault === 'crash')
    lines.push('panic: runtime error: invalid memory address or nil pointer dereference', '[signal SIGSEGV: segmentation violation]');
  else if (fault === 'oom') lines.push('level=info msg="warming cache" entries=0', 'level=info msg="warming cache" entries=4194304');
  else lines.push('level=info msg="ready" checks=health,critical-path');
  if (fault === 'smokefail') lines.push('level=error msg="critical path check failed" reason="checkout total mismatch"');
  return lines;
}

/** What a migration Job's container prints, so far. */
export function migrationLog(
  version: string,
  completion: 'succeeds' | 'fails' | 'hangs',
  c: { state?: { terminated?: unknown } },
): string[] {
  const lines = [
    `level=info msg="connecting to database" version=${version} url=postgres://app:${SANDBOX_DB_PASSWORD}@db.internal:5432/shop`,
    'level=info msg="pending migrations" count=2 from=0041 to=0043',
  ];
  lines.push('level=info msg="applying" migration=0042_add_orders_total_cents');
  if (completion === 'hangs') return [...lines, 'level=warn msg="waiting for lock" table=orders lock=AccessExclusiveLock held_by=pid:4711'];
  if (completion === 'fails') {
    if (!c.state?.terminated) return lines;
    return [
      ...lines,
      'level=error msg="migration failed" migration=0042_add_orders_total_cents error="column \\"total_cents\\" of relation \\"orders\\" contains null values"',
      'level=error msg="rolled back transaction; schema unchanged" exit=1',
    ];
  }
  if (!c.state?.terminated) return lines;
  return [
    ...lines,
    'level=info msg="applying" migration=0043_backfill_total_cents',
    'level=info msg="migrations applied" count=2 schema=0043',
  ];
}
