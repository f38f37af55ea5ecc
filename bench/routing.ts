// Traffic routing through catalog's HTTPRoute (3 replicas): how fast a rollback gives the old
// version 100% of the requests (the route's one write to weight 0), beside `kubectl rollout
// undo` of the same 3-replica Deployment on the same sandbox; and how close each canary step's
// share of requests, measured from the sandbox's metrics, is to its weight.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfigFile } from '../src/config.js';
import { createDriver, kubeFromKubeconfig } from '../src/cluster/index.js';
import type { RolloutState, WorkloadRef } from '../src/cluster/types.js';
import type { MetricSample } from '../src/domain/types.js';
import { startSandbox } from '../src/sandbox/index.js';
import { NEW, PhaseClock, plan, timeToRestore } from './rollback.js';

const run = promisify(execFile);
const SERVICE = 'catalog';
const STEPS = [1, 5, 10, 25, 50];

async function withCatalog<T>(
  fn: (ctx: { sb: Awaited<ReturnType<typeof startSandbox>>; clock: PhaseClock; ref: WorkloadRef; dir: string }) => Promise<T>,
): Promise<T> {
  const clock = new PhaseClock(50);
  const config = loadConfigFile('data/shipbot.yml');
  const sb = await startSandbox({ clock, demo: true, config });
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-bench-routing-'));
  const svc = config.services.find((s) => s.name === SERVICE)!;
  const ref: WorkloadRef = { ...svc.environments.production, serviceName: svc.name, imageRepo: svc.image };
  try {
    return await fn({ sb, clock, ref, dir });
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Real ms from rollback() (what the Rollback button runs) to the old version serving 100%, from canary 25%. */
function routedRollback(): Promise<number> {
  return withCatalog(async ({ sb, clock, ref }) => {
    const driver = createDriver('canary', { kube: kubeFromKubeconfig(sb.kubeconfigYaml()), clock, pollMs: 1000 });
    const p = { ...plan('canary', SERVICE), canarySteps: [25, 100] };
    let state: RolloutState = await driver.prepare(ref, p);
    state = await driver.applyStage(ref, state, driver.stages(p, state)[0]!);
    clock.setSpeed(1);
    return timeToRestore(sb, ref, () => driver.rollback(ref, state));
  });
}

/** The same 3-replica Deployment rolled to the bad version, then `kubectl rollout undo`. */
function kubectlUndo(): Promise<number> {
  return withCatalog(async ({ sb, clock, ref, dir }) => {
    const driver = createDriver('rolling', { kube: kubeFromKubeconfig(sb.kubeconfigYaml()), clock, pollMs: 1000 });
    const p = plan('rolling', SERVICE);
    let state: RolloutState = await driver.prepare(ref, p);
    for (const s of driver.stages(p, state)) state = await driver.applyStage(ref, state, s);
    clock.setSpeed(1);
    const kubeconfig = path.join(dir, 'kubeconfig');
    sb.writeKubeconfig(kubeconfig);
    return timeToRestore(sb, ref, () =>
      run('kubectl', ['--kubeconfig', kubeconfig, '-n', ref.namespace, 'rollout', 'undo', `deployment/${ref.deployment}`]),
    );
  });
}

/** Per step: the canary's share of requests over 2 sandbox minutes at that weight. */
function shareAccuracy(): Promise<Array<{ pct: number; served: number }>> {
  return withCatalog(async ({ sb, clock, ref }) => {
    const kube = kubeFromKubeconfig(sb.kubeconfigYaml());
    const driver = createDriver('canary', { kube, clock, pollMs: 1000 });
    const p = { ...plan('canary', SERVICE), version: 'v1.3.0', canarySteps: [...STEPS, 100] };
    let state: RolloutState = await driver.prepare(ref, p);
    const out: Array<{ pct: number; served: number }> = [];
    for (const stage of driver.stages(p, state).filter((s) => s.trafficPct < 100)) {
      state = await driver.applyStage(ref, state, stage);
      await clock.sleep(125_000);
      const sample = async (track?: string) =>
        (await (
          await kube.fetch(
            `${sb.url}/sandbox/v1/metrics?${new URLSearchParams({ namespace: ref.namespace, service: SERVICE, windowSec: '120', ...(track ? { track } : {}) })}`,
          )
        ).json()) as MetricSample;
      const [canary, all] = [await sample('canary'), await sample()];
      out.push({ pct: stage.trafficPct, served: (100 * canary.requests) / all.requests });
    }
    return out;
  });
}

export async function benchRouting(): Promise<Array<{ name: string; value: number; unit: string; note?: string }>> {
  const routed = await routedRollback();
  const undo = await kubectlUndo();
  const shares = await shareAccuracy();
  const worst = Math.max(...shares.map((s) => Math.abs(s.served - s.pct)));
  console.log(
    `routing: rollback through the HTTPRoute ${routed.toFixed(0)} ms vs kubectl rollout undo ${undo.toFixed(0)} ms; shares ${shares.map((s) => `${s.pct}%→${s.served.toFixed(2)}%`).join(', ')}`,
  );
  return [
    {
      name: 'rollback to 100% old — canary through HTTPRoute',
      value: routed,
      unit: 'ms',
      note: `${SERVICE}, 3 replicas, from canary 25% (${NEW}): one route write to weight 0`,
    },
    {
      name: 'rollback to 100% old — kubectl rollout undo (3 replicas)',
      value: undo,
      unit: 'ms',
      note: `the same ${SERVICE} Deployment fully rolled to ${NEW}`,
    },
    {
      name: 'routed rollback ÷ kubectl rollout undo',
      value: routed / undo,
      unit: '×',
      note: '< 1: traffic restored sooner than with kubectl',
    },
    ...shares.map((s) => ({
      name: `canary share at weight ${s.pct}%`,
      value: Math.round(100 * s.served) / 100,
      unit: '% of requests',
      note: 'sandbox metrics, 2 sandbox minutes, 3 stable replicas',
    })),
    { name: 'canary share: worst error', value: Math.round(100 * worst) / 100, unit: 'points', note: `steps ${STEPS.join(', ')}%` },
  ];
}
