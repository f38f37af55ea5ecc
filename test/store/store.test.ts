import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openStore, type RunRecord } from '../../src/store/index.js';
import { phaseFor, rolloutStateFor } from '../helpers/plan.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(id: string, over: Partial<RunRecord> = {}): RunRecord {
  return {
    id,
    service: 'checkout',
    environment: 'production',
    version: 'v1.2.3',
    strategy: 'canary',
    plan: { service: 'checkout', version: 'v1.2.3' } as RunRecord['plan'],
    request: { intent: 'deploy', service: 'checkout' } as RunRecord['request'],
    requester: { userId: 'U1' },
    origin: { kind: 'terminal' },
    phase: { status: 'running' },
    restarts: [],
    steps: [
      { key: 'validate', title: 'Pre-deployment validation', status: 'done', startedAt: 1, endedAt: 2 },
      { key: 'baseline', title: 'Production baseline', status: 'running', startedAt: 2 },
    ],
    targets: [{ environment: 'production' }],
    data: {},
    createdAt: 1,
    updatedAt: 2,
    ...over,
  };
}

describe('store', () => {
  it('migrates a new file database to the latest user_version in WAL mode, and reopens it as is', () => {
    const file = path.join(dir, 'a', 'shipbot.db');
    const s = openStore(file);
    expect(s.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    s.saveRun(run('r1'));
    s.close();
    const again = openStore(file);
    expect(again.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(again.getRun('r1')?.steps.map((x) => x.key)).toEqual(['validate', 'baseline']);
    again.close();
  });

  it('refuses a database newer than the code, saying what to do', () => {
    const s = openStore(':memory:');
    s.db.pragma('user_version = 99');
    expect(() => migrate(s.db)).toThrow(/newer than this Shipbot knows.*upgrade Shipbot/);
    s.close();
  });

  it('applies only migrations newer than user_version (additive)', () => {
    const s = openStore(':memory:');
    const next = MIGRATIONS.at(-1)!.version + 1;
    const v = migrate(s.db, [...MIGRATIONS, { version: next, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' }]);
    expect(v).toBe(next);
    expect(() => s.db.prepare('SELECT x FROM extra').all()).not.toThrow();
    s.close();
  });

  it('remembers handled Slack events across a restart, and forgets them after the TTL', () => {
    const file = path.join(dir, 'seen.db');
    const ttl = 600_000;
    let s = openStore(file);
    expect(s.firstSeen('C0DEPLOYS:1700000000.000100', 1_000, ttl)).toBe(true);
    expect(s.firstSeen('C0DEPLOYS:1700000000.000100', 2_000, ttl)).toBe(false);
    s.close();
    s = openStore(file);
    // A redelivery after the restart is still a repeat; much later it is new again (and pruned).
    expect(s.firstSeen('C0DEPLOYS:1700000000.000100', 3_000, ttl)).toBe(false);
    expect(s.firstSeen('C0DEPLOYS:1700000000.000100', 1_000 + ttl + 1, ttl)).toBe(true);
    s.close();
  });

  it('round-trips a run with steps, rollout state, pending decision and data', () => {
    const s = openStore(':memory:');
    const r = run('r2', {
      targets: [{ environment: 'production', rollout: rolloutStateFor('canary', { previousImage: 'a:1', newImage: 'a:2' }) }],
      phase: { status: 'awaiting-decision', decision: { verdict: 'ROLLBACK', explanation: 'error rate up', findings: [] } },
      data: { approvals: [{ by: 'U2', at: 5 }] },
      dedupeKey: 'C1:123.4',
      stage: 'canary 5%',
    });
    s.saveRun(r);
    expect(s.getRun('r2')).toEqual(r);
    expect(s.getRunByDedupeKey('C1:123.4')?.id).toBe('r2');
    // updating replaces the steps
    s.saveRun({ ...r, phase: { status: 'succeeded', outcome: 'v1.2.3 is live' }, steps: [r.steps[0]!] });
    expect(s.getRun('r2')?.steps).toHaveLength(1);
    expect(s.getRun('r2')?.phase.status).toBe('succeeded');
    s.close();
  });

  it('reads a run saved before targets existed with its samples, decisions, staging state and touched environments in targets, and saves it in the new shape', () => {
    const file = path.join(dir, 'legacy.db');
    const s = openStore(file);
    const sample = { at: 1, windowSec: 30, requests: 10, errorRate: 0, p50Ms: 1, p95Ms: 2, p99Ms: 3, throughputRps: 1 };
    const rollout = rolloutStateFor('canary');
    const staging = rolloutStateFor('rolling');
    const steps: RunRecord['steps'] = [
      { key: 'staging-deploy', title: 'Staging deploy', status: 'done', startedAt: 3, endedAt: 4 },
      { key: 'staging-gate', title: 'Staging regression gate', status: 'done', startedAt: 4, endedAt: 5 },
      { key: 'prepare', title: 'Prepare canary', status: 'done', startedAt: 6, endedAt: 7 },
      { key: 'stage:canary-5', title: 'Canary 5%', status: 'running', startedAt: 8 },
    ];
    s.saveRun(run('old', { steps, targets: [{ environment: 'production', rollout }] }));
    s.close();
    const decision = (step: string) => ({ step, at: 5, decision: { verdict: 'CONTINUE' as const, explanation: step, findings: [] } });
    // As an earlier Shipbot wrote it: everything loose in data_json, the rollout in its column.
    const db = new Database(file);
    db.prepare('UPDATE runs SET data_json = ? WHERE id = ?').run(
      JSON.stringify({
        approvals: [{ by: 'U2', at: 5 }],
        baseline: sample,
        baselineSamples: [sample],
        smoke: [],
        stagingRolloutState: staging,
        stagingBaselineSamples: [sample],
        productionReferenceSamples: [sample],
        decisions: [decision('staging-gate'), decision('stage:canary-5')],
      }),
      'old',
    );
    db.close();
    const again = openStore(file);
    const rec = again.getRun('old')!;
    // The promotion path: staging's rehearsal first, the run's own environment last.
    expect(rec.targets).toEqual([
      {
        environment: 'staging',
        rollout: staging,
        baselineSamples: [sample],
        reference: { samples: [sample] },
        decisions: [decision('staging-gate')],
        touchedAt: 3,
      },
      {
        environment: 'production',
        rollout,
        baseline: sample,
        baselineSamples: [sample],
        smoke: [],
        decisions: [decision('stage:canary-5')],
        touchedAt: 6,
      },
    ]);
    expect(rec.data).toEqual({ approvals: [{ by: 'U2', at: 5 }] });
    again.saveRun(rec);
    expect(again.getRun('old')).toEqual(rec);
    again.close();
  });

  it('keeps the dedupe key unique', () => {
    const s = openStore(':memory:');
    s.saveRun(run('a', { dedupeKey: 'k' }));
    expect(() => s.saveRun(run('b', { dedupeKey: 'k' }))).toThrow(/UNIQUE/);
    s.close();
  });

  it('leaves the database unchanged when a transaction fails between two writes', () => {
    const s = openStore(':memory:');
    s.saveRun(run('c'));
    expect(() =>
      s.tx(() => {
        s.saveRun(run('c', { phase: phaseFor('rolling-back') }));
        s.audit({ runId: 'c', at: 3, actor: 'U1', action: 'rollback', detail: '' });
        throw new Error('crash between writes');
      }),
    ).toThrow('crash between writes');
    expect(s.getRun('c')?.phase.status).toBe('running');
    expect(s.getRun('c')?.steps).toHaveLength(2);
    expect(s.auditTrail('c')).toEqual([]);
    s.close();
  });

  it('one lock per service and environment: refuses others with holder and since', () => {
    const s = openStore(':memory:');
    const lock = {
      service: 'checkout',
      environment: 'production',
      holder: 'U1',
      runId: 'r1',
      since: 10,
      reason: 'deploy',
      kind: 'run' as const,
    };
    expect(s.acquireLock(lock).ok).toBe(true);
    expect(s.acquireLock(lock).ok).toBe(true); // same run: no-op
    const other = s.acquireLock({ ...lock, holder: 'U2', runId: 'r2', since: 20 });
    expect(other).toEqual({ ok: false, holder: lock });
    expect(s.acquireLock({ ...lock, environment: 'staging', runId: 'r2' }).ok).toBe(true);
    expect(s.releaseLock('checkout', 'production', 'r2')).toBe(false);
    s.updateLock('checkout', 'production', { kind: 'held', reason: 'rolled back automatically' });
    expect(s.releaseLock('checkout', 'production', 'r1')).toBe(false); // held locks need a person
    expect(s.getLock('checkout', 'production')?.kind).toBe('held');
    expect(s.releaseLock('checkout', 'production')).toBe(true);
    expect(s.getLock('checkout', 'production')).toBeUndefined();
    s.close();
  });

  it('records the audit trail in order and lists runs newest first with filters', () => {
    const s = openStore(':memory:');
    s.saveRun(run('old', { createdAt: 1 }));
    s.saveRun(run('new', { createdAt: 2, phase: phaseFor('queued') }));
    s.saveRun(run('other', { createdAt: 3, service: 'search' }));
    expect(s.listRuns().map((r) => r.id)).toEqual(['other', 'new', 'old']);
    expect(s.listRuns({ service: 'checkout' }).map((r) => r.id)).toEqual(['new', 'old']);
    expect(s.listRuns({ status: ['queued'] }).map((r) => r.id)).toEqual(['new']);
    expect(s.nextQueued('checkout', 'production')?.id).toBe('new');
    s.audit({ runId: 'old', at: 5, actor: 'U1', action: 'start', detail: 'a' });
    s.audit({ runId: 'old', at: 6, actor: 'U2', action: 'rollback', detail: 'b' });
    expect(s.auditTrail('old').map((e) => e.action)).toEqual(['start', 'rollback']);
    s.close();
  });
});
