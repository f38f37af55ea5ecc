// What every store engine honours (src/store/run-store.ts), checked on each: SQLite on a file, and
// a real Postgres on loopback. Two connections to one database stand for two replicas.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FencedError, openStore, type LockRecord, ScheduleStore, type Store } from '../../src/store/index.js';
import type { DeployPlan, DeployRequest } from '../../src/domain/types.js';
import { PgStore } from '../../src/store/pg-store.js';
import { phaseFor, rolloutStateFor } from '../helpers/plan.js';
import { havePostgres, NO_POSTGRES, type Postgres, startPostgres } from '../helpers/postgres.js';
import { runRecord as run } from '../helpers/run-record.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-engines-'));
let pgServer: Postgres | undefined;
beforeAll(async () => {
  if (havePostgres) pgServer = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pgServer?.close();
  rmSync(dir, { recursive: true, force: true });
});
if (!havePostgres) console.warn(`store engines: the Postgres half skips: ${NO_POSTGRES}`);

/** Opens `n` stores on one new database of the engine. */
type Open = (n: number) => Promise<Store[]>;
let files = 0;
const engines: Array<[string, Open, boolean]> = [
  [
    'sqlite',
    async (n) => {
      const file = path.join(dir, `e${++files}.db`);
      return Array.from({ length: n }, () => openStore(file));
    },
    true,
  ],
  [
    'postgres',
    async (n) => {
      const url = await pgServer!.database();
      const out: Store[] = [];
      for (let i = 0; i < n; i++) out.push(await PgStore.open(url));
      return out;
    },
    havePostgres,
  ],
];

const LOCK: LockRecord = {
  service: 'checkout',
  environment: 'production',
  holder: 'U1',
  runId: 'r1',
  since: 10,
  reason: 'deploy',
  kind: 'run',
};

describe.each(engines)('the %s store', (_name, open, present) => {
  const test = present ? it : it.skip;
  const one = async () => (await open(1))[0]!;

  test('round-trips a run with steps, rollout state, a pending decision and data; a save replaces the steps', async () => {
    const s = await one();
    const r = run('r2', {
      targets: [{ environment: 'production', rollout: rolloutStateFor('canary', { previousImage: 'a:1', newImage: 'a:2' }) }],
      phase: { status: 'awaiting-decision', decision: { verdict: 'ROLLBACK', explanation: 'error rate up', findings: [] } },
      data: { approvals: [{ by: 'U2', at: 5 }] },
      dedupeKey: 'C1:123.4',
      stage: 'canary 5%',
      createdAt: 1_765_000_000_000,
    });
    await s.saveRun(r);
    expect(await s.getRun('r2')).toEqual(r);
    expect((await s.getRunByDedupeKey('C1:123.4'))?.id).toBe('r2');
    await s.saveRun({ ...r, phase: { status: 'succeeded', outcome: 'v1.2.3 is live' }, steps: [r.steps[0]!] });
    expect((await s.getRun('r2'))?.steps).toHaveLength(1);
    expect((await s.getRun('r2'))?.phase.status).toBe('succeeded');
    expect(await s.latestMoment()).toBe(r.updatedAt);
    await s.close();
  });

  test('keeps the dedupe key unique', async () => {
    const s = await one();
    await s.saveRun(run('a', { dedupeKey: 'k' }));
    await expect(s.saveRun(run('b', { dedupeKey: 'k' }))).rejects.toThrow(/UNIQUE|unique/);
    expect(await s.getRun('b')).toBeUndefined();
    await s.close();
  });

  test('lists runs newest first with filters, the oldest queued next, and the audit trail in order', async () => {
    const s = await one();
    await s.saveRun(run('old', { createdAt: 1 }));
    await s.saveRun(run('new', { createdAt: 2, phase: phaseFor('queued') }));
    await s.saveRun(run('twin', { createdAt: 2, phase: phaseFor('queued') }));
    await s.saveRun(run('other', { createdAt: 3, service: 'search' }));
    expect((await s.listRuns()).map((r) => r.id)).toEqual(['other', 'twin', 'new', 'old']);
    expect((await s.listRuns({ service: 'checkout', limit: 2 })).map((r) => r.id)).toEqual(['twin', 'new']);
    expect((await s.listRuns({ status: ['queued'] })).map((r) => r.id)).toEqual(['twin', 'new']);
    expect((await s.nextQueued('checkout', 'production'))?.id).toBe('new');
    await s.audit({ runId: 'old', at: 5, actor: 'U1', action: 'start', detail: 'a' });
    await s.audit({ runId: 'old', at: 6, actor: 'U2', action: 'rollback', detail: 'b' });
    await s.audit({ at: 7, actor: 'U2', action: 'lock', detail: 'c' });
    expect((await s.auditTrail('old')).map((e) => e.action)).toEqual(['start', 'rollback']);
    expect((await s.auditTrail()).map((e) => e.action)).toEqual(['start', 'rollback', 'lock']);
    await s.close();
  });

  test('one lock per service and environment, across replicas: the others are refused with holder and since', async () => {
    const [a, b] = await open(2);
    expect((await a!.acquireLock(LOCK)).ok).toBe(true);
    expect((await b!.acquireLock(LOCK)).ok).toBe(true); // the same run: a no-op
    expect(await b!.acquireLock({ ...LOCK, holder: 'U2', runId: 'r2', since: 20 })).toEqual({ ok: false, holder: LOCK });
    expect((await b!.acquireLock({ ...LOCK, environment: 'staging', runId: 'r2' })).ok).toBe(true);
    // Release only the lock that was read: a stale one (another since) releases nothing.
    expect(await a!.releaseLock({ ...LOCK, since: 11 })).toBe(false);
    expect(await a!.releaseLock(LOCK)).toBe(true);
    expect(await b!.getLock('checkout', 'production')).toBeUndefined();
    expect((await b!.listLocks()).map((l) => l.environment)).toEqual(['staging']);
    await a!.close();
    await b!.close();
  });

  test('ten replicas race for one lock: exactly one gets it', async () => {
    const stores = await open(10);
    const got = await Promise.all(stores.map((s, i) => s.acquireLock({ ...LOCK, holder: `U${i}`, runId: `r${i}` })));
    expect(got.filter((g) => g.ok)).toHaveLength(1);
    for (const s of stores) await s.close();
  });

  test('starting a run takes the lock and saves the run and its audit entries together; a refused start writes nothing', async () => {
    const [a, b] = await open(2);
    const started = await a!.startRun(LOCK, () => ({
      run: run('r1'),
      audits: [{ runId: 'r1', at: 1, actor: 'U1', action: 'start', detail: '' }],
    }));
    expect(started.got.ok).toBe(true);
    const refused = await b!.startRun({ ...LOCK, runId: 'r2', holder: 'U2' }, (got) =>
      got.ok ? { run: run('r2'), audits: [] } : undefined,
    );
    expect(refused).toEqual({ got: { ok: false, holder: LOCK } });
    expect(await b!.getRun('r2')).toBeUndefined();
    // A start that fails half way (its dedupe key is taken) leaves no lock behind.
    await a!.saveRun(run('r3', { dedupeKey: 'taken' }));
    await expect(
      b!.startRun({ ...LOCK, service: 'search', runId: 'r4' }, () => ({ run: run('r4', { dedupeKey: 'taken' }), audits: [] })),
    ).rejects.toThrow();
    expect(await a!.getLock('search', 'production')).toBeUndefined();
    expect((await a!.auditTrail('r1')).map((e) => e.action)).toEqual(['start']);
    await a!.close();
    await b!.close();
  });

  test("ending a run keeps its lock held, or releases it, with the final save and the audit entry; another run's lock is left alone", async () => {
    const s = await one();
    await s.acquireLock(LOCK);
    await s.endRun(run('r1', { phase: phaseFor('rolled-back') }), 'rolled back automatically', {
      runId: 'r1',
      at: 9,
      actor: 'shipbot',
      action: 'rolled-back',
      detail: 'error rate',
    });
    expect(await s.getLock('checkout', 'production')).toMatchObject({ kind: 'held', reason: 'rolled back automatically', runId: 'r1' });
    expect((await s.getRun('r1'))?.phase.status).toBe('rolled-back');
    await s.acquireLock({ ...LOCK, environment: 'staging', runId: 'r9' });
    await s.endRun(run('r5', { environment: 'staging', phase: phaseFor('succeeded') }), undefined, {
      runId: 'r5',
      at: 10,
      actor: 'shipbot',
      action: 'succeeded',
      detail: '',
    });
    expect((await s.getLock('checkout', 'staging'))?.runId).toBe('r9');
    expect((await s.auditTrail()).map((e) => e.action)).toEqual(['rolled-back', 'succeeded']);
    await s.close();
  });

  test("fencing: a demoted leader's late write is refused once the next term has written, and changes nothing", async () => {
    const [a, b] = await open(2);
    let termA = 1;
    a!.fenceWith(() => termA);
    b!.fenceWith(() => 2);
    const at = (key: string) => run('r1', { steps: [{ key, title: key, status: 'running', startedAt: 1 }] });
    await a!.saveRun(at('canary 5%'));
    await b!.saveRun(at('canary 25%')); // B takes over (term 2) and moves the run on
    await expect(a!.saveRun(at('promote'))).rejects.toThrow(FencedError);
    await expect(a!.endRun(at('promote'), undefined, { at: 1, actor: 'shipbot', action: 'succeeded', detail: '' })).rejects.toThrow(
      FencedError,
    );
    expect((await b!.getRun('r1'))!.steps[0]!.key).toBe('canary 25%');
    termA = 3; // A leads again later: it writes again, and B's term has ended
    await a!.saveRun(at('promote'));
    await expect(b!.saveRun(at('canary 50%'))).rejects.toThrow(/term 2 has ended \(term 3 has written since\)/);
    expect((await a!.getRun('r1'))!.steps[0]!.key).toBe('promote');
    await a!.close();
    await b!.close();
  });

  test('a new leader claims its term before it writes anything: from then on the old leader writes nothing', async () => {
    const [old, next] = await open(2);
    old!.fenceWith(() => 1);
    next!.fenceWith(() => 2);
    await old!.saveRun(run('r1'));
    await next!.claimTerm();
    await expect(old!.saveRun(run('r1', { stage: 'late' }))).rejects.toThrow(FencedError);
    // The old leader's account of its own work is refused too; a person's entry (any replica) is not.
    await expect(old!.audit({ runId: 'r1', at: 5, actor: 'shipbot', action: 'stage', detail: 'late' }, true)).rejects.toThrow(FencedError);
    await old!.audit({ at: 6, actor: 'U1', action: 'lock', detail: 'checkout/production' });
    expect((await next!.auditTrail()).map((e) => e.action)).toEqual(['lock']);
    expect((await next!.getRun('r1'))?.stage).toBeUndefined();
    await old!.close();
    await next!.close();
  });

  test('the line stop holds once, across replicas, until lifted', async () => {
    const [a, b] = await open(2);
    expect(await a!.lineStop()).toBeUndefined();
    expect(await a!.stopLine({ by: 'U_IC', reason: 'incident', at: 5 })).toBe(true);
    expect(await b!.stopLine({ by: 'U2', reason: 'me too', at: 6 })).toBe(false);
    expect(await b!.lineStop()).toEqual({ by: 'U_IC', reason: 'incident', at: 5 });
    expect(await b!.resumeLine()).toBe(true);
    expect(await a!.resumeLine()).toBe(false);
    await a!.close();
    await b!.close();
  });

  test('a command queued on one replica is taken once by the leader, retaken by the next term if never answered, and answered back', async () => {
    const [standby, leader] = await open(2);
    const press = (id: string, at: number) => ({ id, runId: 'r1', cmd: 'rollback' as const, actor: { userId: 'U_IC' }, at });
    await standby!.queueCommand(press('c1', 1));
    await standby!.queueCommand(press('c1', 1)); // the same press again: queued once
    await standby!.queueCommand(press('c2', 2));
    expect((await leader!.takeCommands(3)).map((c) => [c.id, c.cmd, c.actor.userId])).toEqual([
      ['c1', 'rollback', 'U_IC'],
      ['c2', 'rollback', 'U_IC'],
    ]);
    expect(await leader!.takeCommands(3)).toEqual([]); // taken: not handed out twice in one term
    await leader!.answerCommand('c1', { ok: true, acted: true, message: 'rolling back' });
    expect(await standby!.commandAnswer('c1')).toEqual({ ok: true, acted: true, message: 'rolling back' });
    expect(await standby!.commandAnswer('c2')).toBeUndefined();
    // Term 3's leader died before answering c2: term 4 takes it again; c1 was answered.
    expect((await standby!.takeCommands(4)).map((c) => c.id)).toEqual(['c2']);
    await standby!.close();
    await leader!.close();
  });

  test('scheduled deploys: a due one is claimed by one replica only; a periodic job is marked done once', async () => {
    const [a, b] = await open(2);
    const [sa, sb] = [new ScheduleStore(a!.sql), new ScheduleStore(b!.sql)];
    const plan = { service: 'checkout', environment: 'production', version: 'v1.2.3' } as DeployPlan;
    const due = await sa.create(
      { id: 's-1', runAt: 100, request: { intent: 'deploy' } as DeployRequest, plan, requester: { userId: 'U1' } },
      50,
    );
    expect(due).toMatchObject({ id: 's-1', status: 'pending', runAt: 100, service: 'checkout', createdAt: 50 });
    expect((await sb.list()).map((s) => s.id)).toEqual(['s-1']);
    const claims = await Promise.all([sa.claimDue(150), sb.claimDue(150)]);
    expect(claims.flat().map((s) => s.id)).toEqual(['s-1']);
    expect(await sb.settle('s-1', 'started', 160, { runId: 'r1' })).toBe(true);
    expect(await sa.settle('s-1', 'failed', 161, {})).toBe(false);
    expect(await sa.get('s-1')).toMatchObject({ status: 'started', runId: 'r1' });
    expect(await Promise.all([sa.mark('digest', 'd1', 1), sb.mark('digest', 'd1', 1)])).toEqual(expect.arrayContaining([true, false]));
    expect(await sb.hasMark('digest', 'd1')).toBe(true);
    await a!.close();
    await b!.close();
  });

  test('a Slack event is handled once across replicas, and is new again after the TTL', async () => {
    const [a, b] = await open(2);
    const ttl = 600_000;
    const key = 'C0DEPLOYS:1700000000.000100';
    const first = await Promise.all([a!.firstSeen(key, 1_000, ttl), b!.firstSeen(key, 1_000, ttl)]);
    expect(first.filter(Boolean)).toHaveLength(1);
    expect(await a!.firstSeen(key, 3_000, ttl)).toBe(false);
    expect(await b!.firstSeen(key, 1_000 + ttl + 1, ttl)).toBe(true);
    await a!.close();
    await b!.close();
  });
});
