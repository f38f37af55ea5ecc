import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate, openStore, type RunRecord } from '../../src/store/index.js';
import { rolloutStateFor } from '../helpers/plan.js';
import { runRecord as run } from '../helpers/run-record.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// SQLite's own: its file, its migrations, reading what earlier versions wrote. What every engine
// honours is in engines.test.ts.
describe('the SQLite store', () => {
  it('migrates a new file database to the latest user_version in WAL mode, and reopens it as is', async () => {
    const file = path.join(dir, 'a', 'shipbot.db');
    const s = openStore(file);
    expect(s.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    await s.saveRun(run('r1'));
    await s.close();
    const again = openStore(file);
    expect(again.schemaVersion).toBe(MIGRATIONS.at(-1)!.version);
    expect((await again.getRun('r1'))?.steps.map((x) => x.key)).toEqual(['validate', 'baseline']);
    await again.close();
  });

  it('refuses a database newer than the code, saying what to do', () => {
    const s = openStore(':memory:');
    s.db.pragma('user_version = 99');
    expect(() => migrate(s.db)).toThrow(/newer than this Shipbot knows.*upgrade Shipbot/);
    s.closeNow();
  });

  it('applies only migrations newer than user_version (additive)', () => {
    const s = openStore(':memory:');
    const next = MIGRATIONS.at(-1)!.version + 1;
    const v = migrate(s.db, [...MIGRATIONS, { version: next, name: 'extra', sql: 'CREATE TABLE extra (x INTEGER)' }]);
    expect(v).toBe(next);
    expect(() => s.db.prepare('SELECT x FROM extra').all()).not.toThrow();
    s.closeNow();
  });

  it('remembers handled Slack events across a restart, and forgets them after the TTL', async () => {
    const file = path.join(dir, 'seen.db');
    const ttl = 600_000;
    let s = openStore(file);
    expect(await s.firstSeen('C0DEPLOYS:1700000000.000100', 1_000, ttl)).toBe(true);
    expect(await s.firstSeen('C0DEPLOYS:1700000000.000100', 2_000, ttl)).toBe(false);
    await s.close();
    s = openStore(file);
    // A redelivery after the restart is still a repeat; much later it is new again (and pruned).
    expect(await s.firstSeen('C0DEPLOYS:1700000000.000100', 3_000, ttl)).toBe(false);
    expect(await s.firstSeen('C0DEPLOYS:1700000000.000100', 1_000 + ttl + 1, ttl)).toBe(true);
    await s.close();
  });

  it('reads a run saved before targets existed with its samples, decisions, staging state and touched environments in targets, and saves it in the new shape', async () => {
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
    await s.saveRun(run('old', { steps, targets: [{ environment: 'production', rollout }] }));
    await s.close();
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
    const rec = (await again.getRun('old'))!;
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
    await again.saveRun(rec);
    expect(await again.getRun('old')).toEqual(rec);
    await again.close();
  });
});
