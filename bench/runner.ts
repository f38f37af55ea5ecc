// 100 deployments at once in one process against the sandbox: one Runner, 100 services, every
// strategy, on each store engine: SQLite (the embedded default) and Postgres (replicas share it;
// a real server on loopback, when installed). Reports wall time, peak RSS and heap, and CPU time
// (user + system) of the process (runner and sandbox together: they share it, as in local mode).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScaledClock } from '../src/clock.js';
import { ShipbotConfig } from '../src/config.js';
import { kubeFromKubeconfig } from '../src/cluster/index.js';
import { buildPlan } from '../src/domain/plan.js';
import { STRATEGIES, type DeployRequest } from '../src/domain/types.js';
import { createLogger } from '../src/log.js';
import { SandboxMetricSource } from '../src/metrics/sandbox.js';
import { createRunner } from '../src/runner/index.js';
import { demoDeployment } from '../src/sandbox/demo.js';
import { startSandbox } from '../src/sandbox/index.js';
import { resourceByKind } from '../src/sandbox/resources.js';
import { openStore, PgStore, type Store } from '../src/store/index.js';
import { havePostgres, NO_POSTGRES, startPostgres } from '../test/helpers/postgres.js';
import { FINAL_STATUSES, type RunView, outcomeOf, pendingDecision } from '../src/domain/run.js';

/** The run's view once it is final or waits for a person (which would never settle by itself). */
export function untilDecidedOrFinal(runner: ReturnType<typeof createRunner>, id: string): Promise<RunView | undefined> {
  return new Promise((resolve) => {
    const check = (v?: RunView) => {
      if (v && (FINAL_STATUSES.has(v.phase.status) || v.phase.status === 'awaiting-decision')) {
        off();
        resolve(v);
      }
    };
    const off = runner.subscribe((ev) => ev.type === 'run-updated' && ev.run.id === id && check(ev.run));
    void runner.get(id).then(check);
  });
}

const N = Number(process.env.BENCH_RUNNER_N ?? 100);
const PODS_EACH = 4;
const SPEED = 50;

type Figure = { name: string; value: number; unit: string; note?: string };

export async function benchRunner(): Promise<Figure[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-bench-runner-'));
  try {
    const out = (await runOn(openStore(path.join(dir, 'shipbot.db')), dir)).map((f) => ({ ...f, name: `SQLite: ${f.name}` }));
    if (!havePostgres) return [...out, { name: 'Postgres: not measured', value: 0, unit: '', note: NO_POSTGRES }];
    const pg = await startPostgres();
    try {
      const figures = await runOn(await PgStore.open(await pg.database()), dir);
      return [...out, ...figures.map((f) => ({ ...f, name: `Postgres: ${f.name}` }))];
    } finally {
      await pg.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runOn(store: Store, dir: string): Promise<Figure[]> {
  const names = Array.from({ length: N }, (_, i) => `svc-${i}`);
  const config = ShipbotConfig.parse({
    // Production deploys need roles (without any, only staging is allowed).
    roles: { deployers: ['U_BENCH'], incidentCommanders: ['U_BENCH'] },
    services: names.map((name) => ({
      name,
      image: `registry.example.com/bench/${name}`,
      environments: { production: { namespace: 'bench', deployment: name, service: name, container: 'app' } },
      smoke: [{ name: 'health', url: '{{baseUrl}}/health', expectStatus: 200 }],
    })),
  });
  const clock = new ScaledClock(SPEED);
  const sb = await startSandbox({ clock, podStartMs: 3000 });
  const runner = createRunner({
    store,
    config,
    clock,
    kube: kubeFromKubeconfig(sb.kubeconfigYaml()),
    metrics: new SandboxMetricSource(sb.url, { fetch: kubeFromKubeconfig(sb.kubeconfigYaml()).fetch, timeoutMs: 10_000 }),
    logger: createLogger('silent'),
    reportsDir: path.join(dir, `reports-${store.engine}`),
  });
  try {
    sb.api.create(resourceByKind('Namespace'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    for (const name of names) {
      sb.api.create(
        resourceByKind('Deployment'),
        'bench',
        demoDeployment('bench', name, name, 'app', `registry.example.com/bench/${name}:v1.2.2`, PODS_EACH),
      );
      sb.api.create(resourceByKind('Service'), 'bench', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'bench' },
        spec: { selector: { app: name }, ports: [{ port: 80 }] },
      });
    }
    await clock.sleep(10_000); // pods Ready, some traffic to measure a baseline on

    let peakRss = 0;
    let peakHeap = 0;
    const probe = setInterval(() => {
      const m = process.memoryUsage();
      peakRss = Math.max(peakRss, m.rss);
      peakHeap = Math.max(peakHeap, m.heapUsed);
    }, 100);
    const rssBefore = process.memoryUsage().rss;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ids = await Promise.all(
      names.map(async (name, i) => {
        const request: DeployRequest = {
          intent: 'deploy',
          service: name,
          version: 'v1.2.3',
          environment: 'production',
          strategy: STRATEGIES[i % 3],
          focus: [],
          missing: [],
          suggestions: [],
          notes: [],
        };
        const plan = {
          ...buildPlan(request, config.services[i]!, config),
          stageWindowSec: 30,
          monitoringIntervalSec: 5,
          observationSec: 30,
          canarySteps: [50, 100],
        };
        const r = await runner.start({ request, plan, requester: { userId: 'U_BENCH' }, origin: { kind: 'terminal' } });
        if (!r.ok) throw new Error(r.message);
        return r.run.id;
      }),
    );
    // A run waiting for a person would never settle here: count it as an outcome instead.
    const finals = await Promise.all(ids.map((id) => untilDecidedOrFinal(runner, id)));
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    clearInterval(probe);
    const ok = finals.filter((f) => f?.phase.status === 'succeeded').length;
    const other = finals
      .filter((f) => f?.phase.status !== 'succeeded')
      .map((f) => (f ? `${f.phase.status}: ${outcomeOf(f) ?? pendingDecision(f)?.explanation}` : 'no run'));
    return [
      {
        name: 'deployments succeeded',
        value: ok,
        unit: `of ${N}`,
        note: other.length ? other[0]!.slice(0, 120) : `${N} at once, all three strategies, clock ${SPEED}x`,
      },
      { name: 'wall time for all', value: wall / 1000, unit: 's' },
      {
        name: 'peak RSS',
        value: peakRss / 2 ** 20,
        unit: 'MiB',
        note: `${(rssBefore / 2 ** 20).toFixed(0)} MiB before the runs (sandbox with ${N * PODS_EACH} pods)`,
      },
      { name: 'peak heap used', value: peakHeap / 2 ** 20, unit: 'MiB' },
      { name: 'CPU time (user+system)', value: (cpu.user + cpu.system) / 1e6, unit: 's', note: 'runner and sandbox in one process' },
      { name: 'CPU per deployment', value: (cpu.user + cpu.system) / 1e3 / N, unit: 'ms' },
    ];
  } finally {
    await runner.close();
    await sb.close();
    await store.close();
  }
}
