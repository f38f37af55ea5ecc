// Rollback speed: for each strategy, the time from calling rollback() to the old version
// serving 100% of the Service's traffic (as the sandbox routes it), beside `kubectl rollout
// undo` run against the same sandbox. Set-up runs on a fast clock; each measurement runs at
// real speed (pods take 3 s to start, as the sandbox's default), so figures are wall-clock.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Clock } from '../src/clock.js';
import { loadConfigFile } from '../src/config.js';
import { createDriver, kubeFromKubeconfig } from '../src/cluster/index.js';
import type { RolloutState, WorkloadRef } from '../src/cluster/types.js';
import type { DeployPlan, Strategy } from '../src/domain/types.js';
import { startSandbox, type Sandbox } from '../src/sandbox/index.js';

const run = promisify(execFile);
const SETUP_SPEED = 50;
const OLD = 'v1.2.2';
export const NEW = 'v1.3.0-errors';

/** A clock whose speed can change between phases without jumping: fast set-up, real-time measurement. */
export class PhaseClock implements Clock {
  private baseReal = Date.now();
  private baseVirtual = Date.now();
  constructor(public speed: number) {}
  now(): number {
    return this.baseVirtual + (Date.now() - this.baseReal) * this.speed;
  }
  setSpeed(speed: number): void {
    this.baseVirtual = this.now();
    this.baseReal = Date.now();
    this.speed = speed;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(resolve, Math.max(0, ms / this.speed));
      signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
    });
  }
}

export function plan(strategy: Strategy, service: string): DeployPlan {
  return {
    service,
    version: NEW,
    environment: 'production',
    strategy,
    risk: 'medium',
    slo: { errorRatePct: 1, p99Ms: 500, availabilityPct: 99.9 },
    dbMigration: false,
    rollbackTolerance: 'instant',
    observationSec: 0,
    stageWindowSec: 0,
    monitoringIntervalSec: 10,
    canarySteps: [5, 25, 50, 100],
    regressionThresholdPct: 2,
    rollbackOnRegression: true,
    guidance: '',
    focus: [],
    rationale: '',
  };
}

async function oldServesAll(sb: Sandbox, ref: WorkloadRef): Promise<boolean> {
  const body = (await (await kubeFromKubeconfig(sb.kubeconfigYaml()).fetch(`${sb.url}/sandbox/v1/overview`)).json()) as {
    services: Array<{ namespace: string; name: string; versions: Array<{ version: string; trafficPct: number }> }>;
  };
  const svc = body.services.find((s) => s.namespace === ref.namespace && s.name === ref.service)!;
  const serving = svc.versions.filter((v) => v.trafficPct > 0);
  return serving.length > 0 && serving.every((v) => v.version === OLD);
}

/** Real ms from `act` starting until the old version serves 100%, polling the overview every 5 ms. */
export async function timeToRestore(sb: Sandbox, ref: WorkloadRef, act: () => Promise<unknown>): Promise<number> {
  if (await oldServesAll(sb, ref)) throw new Error('bench set-up: the old version already serves everything');
  // (that first poll also opened the connection, so its set-up is not measured)
  const t0 = performance.now();
  const acting = act();
  while (!(await oldServesAll(sb, ref))) await new Promise((r) => setTimeout(r, 5));
  const t = performance.now() - t0;
  await acting;
  return t;
}

async function scenario(strategy: Strategy | 'kubectl'): Promise<number> {
  const clock = new PhaseClock(SETUP_SPEED);
  const config = loadConfigFile('data/shipbot.yml');
  const sb = await startSandbox({ clock, demo: true, config });
  const dir = mkdtempSync(path.join(tmpdir(), 'shipbot-bench-'));
  try {
    const svc = config.services.find((s) => s.name === 'checkout')!;
    const ref: WorkloadRef = { ...svc.environments.production, serviceName: svc.name, imageRepo: svc.image };
    const driver = createDriver(strategy === 'kubectl' ? 'rolling' : strategy, {
      kube: kubeFromKubeconfig(sb.kubeconfigYaml()),
      clock,
      pollMs: 1000,
    });
    const p = plan(strategy === 'kubectl' ? 'rolling' : strategy, 'checkout');
    let state: RolloutState = await driver.prepare(ref, p);
    // Roll out as far as a bad release gets before it is caught: canary 25%, after cutover, fully rolled.
    for (const s of driver.stages(p, state)) {
      state = await driver.applyStage(ref, state, s);
      if (s.trafficPct >= 25) break;
    }
    clock.setSpeed(1);
    if (strategy !== 'kubectl') return await timeToRestore(sb, ref, () => driver.rollback(ref, state));
    const kubeconfig = path.join(dir, 'kubeconfig');
    sb.writeKubeconfig(kubeconfig);
    return await timeToRestore(sb, ref, () =>
      run('kubectl', ['--kubeconfig', kubeconfig, '-n', ref.namespace, 'rollout', 'undo', `deployment/${ref.deployment}`]),
    );
  } finally {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function benchRollback(): Promise<Array<{ name: string; value: number; unit: string; note?: string }>> {
  const figures: Array<{ name: string; value: number; unit: string; note?: string }> = [];
  const results: Partial<Record<Strategy | 'kubectl', number>> = {};
  for (const s of ['blue-green', 'canary', 'rolling', 'kubectl'] as const) {
    results[s] = await scenario(s);
    const note =
      s === 'kubectl'
        ? 'kubectl rollout undo (child process) on the same sandbox, 20 replicas'
        : s === 'rolling'
          ? 'kubectl-style undo through client-node, 20 replicas'
          : s === 'canary'
            ? 'from canary 25%: canary scaled to zero'
            : 'after cutover: one Service selector patch';
    figures.push({ name: `rollback to 100% old — ${s}`, value: results[s]!, unit: 'ms', note });
  }
  for (const s of ['blue-green', 'canary', 'rolling'] as const) {
    figures.push({
      name: `${s} rollback ÷ kubectl rollout undo`,
      value: results[s]! / results.kubectl!,
      unit: '×',
      note: '< 1: traffic restored sooner than with kubectl',
    });
  }
  const ratio = results.rolling! / results.kubectl!;
  console.log(
    `rollback: blue-green ${results['blue-green']!.toFixed(0)} ms, canary ${results.canary!.toFixed(0)} ms, rolling ${results.rolling!.toFixed(0)} ms, kubectl rollout undo ${results.kubectl!.toFixed(0)} ms (rolling/kubectl ratio ${ratio.toFixed(2)})`,
  );
  return figures;
}
