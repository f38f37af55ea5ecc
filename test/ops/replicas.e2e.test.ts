// Two Shipbot replicas in one process, on one sandbox cluster and one real Postgres: each has its
// own store connection pool, runner, cluster client (writes guarded by its leadership) and Lease
// elector, as two pods would. A crash is what kill -9 leaves: the elector stops renewing without
// releasing and the runner stops where it is. Short Lease timings keep it quick; the rules are
// client-go's. (Separate processes, SIGSTOP and SIGCONT: see the notes of issue #31.)
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../../src/clock.js';
import { guardWrites, kubeFromKubeconfig, NotLeading, singleCluster } from '../../src/cluster/index.js';
import { mergePatch } from '../../src/cluster/kube.js';
import { createLogger } from '../../src/log.js';
import { SandboxMetricSource } from '../../src/metrics/sandbox.js';
import { Replica } from '../../src/ops/replica.js';
import type { LeaseTiming } from '../../src/ops/leader.js';
import { createRunner, type Runner } from '../../src/runner/index.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { FencedError, PgStore } from '../../src/store/index.js';
import { havePostgres, NO_POSTGRES, type Postgres, startPostgres } from '../helpers/postgres.js';
import { IC, REQUESTER, withoutStaging } from '../runner/world.js';
import { buildPlan } from '../../src/domain/plan.js';
import { parseCommand } from '../../src/domain/parse.js';
import { findService } from '../../src/config.js';

const T: LeaseTiming = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 300 };
const config = withoutStaging();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let pg: Postgres | undefined;
let sb: Sandbox | undefined;
const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-replicas-'));
beforeAll(async () => {
  if (havePostgres) pg = await startPostgres();
}, 60_000);
afterAll(async () => {
  await pg?.close();
  rmSync(dir, { recursive: true, force: true });
});
if (!havePostgres) console.warn(`replicas: skipped: ${NO_POSTGRES}`);

interface Pod {
  name: string;
  store: PgStore;
  runner: Runner;
  replica: Replica;
  kube: ReturnType<typeof kubeFromKubeconfig>;
  demoted: number[];
  /** kill -9: no release, no clean stop; what was in flight is dropped. */
  crash(): Promise<void>;
}
let pods: Pod[] = [];
afterEach(async () => {
  for (const p of pods) await p.crash();
  pods = [];
  await sb?.close();
  sb = undefined;
});

async function cluster(): Promise<{ url: string; clock: ScaledClock; lease: string }> {
  const clock = new ScaledClock(100);
  sb = await startSandbox({ clock, demo: true, warm: true, config });
  const url = await pg!.database();
  await (await PgStore.open(url)).close(); // the first replica migrates
  return { url, clock, lease: `shipbot-leader-${randomUUID().slice(0, 6)}` };
}

function pod(name: string, at: { url: string; clock: ScaledClock; lease: string }): Pod {
  const store = PgStore.connect(at.url);
  let replica: Replica | undefined;
  const kube = guardWrites(kubeFromKubeconfig(sb!.kubeconfigYaml()), { leading: () => replica?.leading ?? false, identity: name });
  const runner = createRunner({
    store,
    config,
    clock: at.clock,
    clusters: singleCluster(kube),
    metrics: new SandboxMetricSource(sb!.url, { fetch: kube.fetch }),
    logger: createLogger('silent'),
    reportsDir: path.join(dir, name),
    pollMs: 1000,
    acting: () => replica?.leading ?? false,
  });
  const demoted: number[] = [];
  replica = new Replica({
    store,
    runner,
    log: createLogger('silent'),
    lease: { api: kubeFromKubeconfig(sb!.kubeconfigYaml()).coordination, namespace: 'default', name: at.lease, identity: name, timing: T },
    pollMs: 200,
    answerWaitMs: 20_000,
    onDemoted: (term) => demoted.push(term),
  });
  replica.start();
  let crashed = false;
  const p: Pod = {
    name,
    store,
    runner,
    replica,
    kube,
    demoted,
    async crash() {
      if (crashed) return;
      crashed = true;
      await replica!.elector.stop(false);
      await runner.close();
      await store.close();
    },
  };
  pods.push(p);
  return p;
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
  return performance.now() - t0;
}

async function deployOn(p: Pod, text: string): Promise<string> {
  const parsed = parseCommand(text, config);
  if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error(text);
  const request = parsed.command;
  const plan = {
    ...buildPlan(request, findService(config, request.service!)!, config),
    stageWindowSec: 60,
    monitoringIntervalSec: 5,
    observationSec: 30,
    canarySteps: [25, 50, 100],
  };
  const started = await p.runner.start({ request, plan, requester: REQUESTER, origin: { kind: 'terminal' } });
  if (!started.ok) throw new Error(started.message);
  return started.run.id;
}

const stageRunning = (p: Pod, id: string) => async () =>
  Boolean((await p.store.getRun(id))?.steps.some((s) => s.key.startsWith('stage:') && s.status === 'running'));

/** Replica a leads, b stands by, and a's canary of checkout is in a stage. */
async function canaryOnLeader(): Promise<{ at: Awaited<ReturnType<typeof cluster>>; a: Pod; b: Pod; id: string }> {
  const at = await cluster();
  const a = pod('shipbot-a', at);
  await until('a leads', () => a.replica.leading);
  const b = pod('shipbot-b', at);
  const id = await deployOn(a, 'deploy checkout v1.2.3 canary');
  await until('a canary stage runs', stageRunning(a, id), 30_000);
  return { at, a, b, id };
}

describe.skipIf(!havePostgres)('two replicas on Postgres', () => {
  it('the leader dies mid-canary: the standby takes the Lease within its duration and a retry, takes the run up, and the canary finishes; the dead leader writes nothing more', async () => {
    const { at, a, b, id } = await canaryOnLeader();
    // A standby drives nothing.
    expect(b.replica.leading).toBe(false);

    const crashedAt = performance.now();
    const before = (await b.store.getRun(id))!;
    await a.crash();
    await until('b leads', () => b.replica.leading, 10_000);
    // Loose by 1.5 s: timers on a busy 2-core machine fire late.
    expect(performance.now() - crashedAt).toBeLessThan(T.leaseDurationMs + 2 * T.retryPeriodMs + 1_500);
    expect(b.replica.term).toBeGreaterThan(1);

    await until(
      'the run ends',
      async () => ['succeeded', 'rolled-back', 'failed'].includes((await b.store.getRun(id))!.phase.status),
      60_000,
    );
    const end = (await b.store.getRun(id))!;
    expect(end.phase.status, JSON.stringify(end.phase)).toBe('succeeded');
    expect(end.restarts.at(-1)?.note).toMatch(/leader changed.*resuming at/);
    // The API server's audit log names the replica that wrote: the canary was finished by b.
    const finished = sb!.auditLog().filter((e) => e.requestURI.includes('/namespaces/production/'));
    expect(finished.at(-1)?.userAgent).toBe('shipbot (replica shipbot-b)');
    // The steps done before the crash stayed done, once.
    for (const s of before.steps.filter((x) => x.status === 'done'))
      expect(end.steps.find((x) => x.key === s.key)).toMatchObject({ status: 'done', endedAt: s.endedAt });

    // The old leader's store connection and cluster client, were they still alive: refused.
    const late = PgStore.connect(at.url);
    late.fenceWith(() => 1);
    await expect(late.saveRun({ ...end, stage: 'a late write' })).rejects.toThrow(FencedError);
    await late.close();
    await expect(
      a.kube.apps.patchNamespacedDeployment(
        { name: 'checkout', namespace: 'production', body: { metadata: { labels: { late: 'yes' } } } },
        mergePatch,
      ),
    ).rejects.toThrow(NotLeading);
    expect((await b.store.getRun(id))!.stage).not.toBe('a late write');
  });

  it('a Rollback pressed on the standby while the leader is dead acts once, after takeover', async () => {
    const { a, b, id } = await canaryOnLeader();
    await a.crash();
    expect(b.replica.leading).toBe(false);
    const answer = await b.replica.command(id, 'rollback', IC, 'press-1');
    expect(b.replica.leading).toBe(true);
    expect(answer).toMatchObject({ ok: true, acted: true });
    await until('the run ends', async () => (await b.store.getRun(id))!.phase.status === 'rolled-back', 60_000);
    const rollbacks = (await b.store.auditTrail(id)).filter((e) => e.action === 'rollback' && e.actor.includes('U_IC'));
    expect(rollbacks).toHaveLength(1);
  });

  it('10 Rollback presses spread over both replicas act once', async () => {
    const { a, b, id } = await canaryOnLeader();
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? b : a).replica.command(id, 'rollback', IC, `press-${i}`)),
    );
    expect(answers.filter((x) => x.ok && x.acted)).toHaveLength(1);
    expect(answers.every((x) => x.ok)).toBe(true);
    await until('the run ends', async () => (await a.store.getRun(id))!.phase.status === 'rolled-back', 60_000);
    const trail = await a.store.auditTrail(id);
    expect(trail.filter((e) => e.action === 'rollback')).toHaveLength(1);
    expect(trail.filter((e) => e.action === 'rollback-repeated')).toHaveLength(9);
    expect(a.demoted).toEqual([]);
  });
});
