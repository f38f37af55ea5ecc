// Fencing: run-state writes carry the leadership term of the replica that makes them; once a later
// term has written, an earlier term's write is refused and changes nothing. Two Store connections
// on one database file stand for two replicas sharing it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FencedError, openStore, type RunRecord } from '../../src/store/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-fence-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(id: string, stage: string): RunRecord {
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
    steps: [{ key: stage, title: stage, status: 'running', startedAt: 1 }],
    targets: [{ environment: 'production' }],
    data: {},
    createdAt: 1,
    updatedAt: 2,
  };
}

describe('fenced run-state writes', () => {
  it("a demoted leader's late write is refused once the next term has written, and changes nothing", () => {
    const file = path.join(dir, 'two.db');
    const a = openStore(file);
    const b = openStore(file);
    let termA = 1;
    a.fenceWith(() => termA);
    b.fenceWith(() => 2);
    a.saveRun(run('r1', 'canary 5%'));
    // B takes over (term 2) and moves the run on.
    b.saveRun(run('r1', 'canary 25%'));
    // A wakes up and writes what it was doing: refused.
    expect(() => a.saveRun(run('r1', 'promote'))).toThrow(FencedError);
    expect(b.getRun('r1')!.steps[0]!.key).toBe('canary 25%');
    // A new term for A (it leads again later) writes again.
    termA = 3;
    a.saveRun(run('r1', 'promote'));
    expect(() => b.saveRun(run('r1', 'canary 50%'))).toThrow(/term 2 has ended \(term 3 has written since\)/);
    expect(a.getRun('r1')!.steps[0]!.key).toBe('promote');
    a.close();
    b.close();
  });

  it('a store that is not fenced (one replica, SQLite) writes as before', () => {
    const s = openStore(path.join(dir, 'one.db'));
    s.saveRun(run('r2', 'validate'));
    s.saveRun(run('r2', 'baseline'));
    expect(s.getRun('r2')!.steps[0]!.key).toBe('baseline');
    s.close();
  });
});
