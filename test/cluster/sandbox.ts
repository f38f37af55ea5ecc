// Shared set-up for the cluster tests: a sandbox with the demo workload on a fast clock, the
// WorkloadRef of a catalogue service, and what the sandbox says is serving (its overview).
import { ScaledClock } from '../../src/clock.js';
import { loadConfigFile, type ShipbotConfig } from '../../src/config.js';
import type { DriverDeps } from '../../src/cluster/common.js';
import { kubeFromKubeconfig } from '../../src/cluster/kube.js';
import type { WorkloadRef } from '../../src/cluster/types.js';
import type { DeployPlan, Environment, Strategy } from '../../src/domain/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

export const config: ShipbotConfig = loadConfigFile('data/shipbot.yml');

/** Fast enough that a 20-replica rollout takes well under a second of real time. */
export const SPEED = 60;

export async function sandbox(speed = SPEED): Promise<{ sb: Sandbox; deps: DriverDeps }> {
  const clock = new ScaledClock(speed);
  // warm: the demo is Ready from the start, as a live cluster would be.
  const sb = await startSandbox({ clock, demo: true, warm: true, config });
  return { sb, deps: { kube: kubeFromKubeconfig(sb.kubeconfigYaml()), clock, pollMs: 1000, rolloutTimeoutSec: 900 } };
}

export function refFor(service: string, environment: Environment = 'production'): WorkloadRef {
  const s = config.services.find((x) => x.name === service)!;
  const e = s.environments[environment]!;
  return { ...e, serviceName: s.name, imageRepo: e.image ?? s.image };
}

export function planFor(service: string, version: string, strategy: Strategy, environment: Environment = 'production'): DeployPlan {
  return {
    service,
    version,
    environment,
    strategy,
    risk: 'medium',
    slo: { errorRatePct: 1, p99Ms: 500, availabilityPct: 99.9 },
    dbMigration: false,
    rollbackTolerance: 'instant',
    observationSec: 60,
    stageWindowSec: 60,
    monitoringIntervalSec: 10,
    canarySteps: [5, 25, 50, 100],
    regressionThresholdPct: 2,
    rollbackOnRegression: true,
    guidance: '',
    focus: [],
    rationale: '',
  };
}

export interface Serving {
  /** Traffic share per version, percent, as the sandbox routes it now. */
  byVersion: Record<string, number>;
  selector: Record<string, string>;
}

/** What the sandbox's overview says the Service routes to right now. */
export async function serving(sb: Sandbox, ref: WorkloadRef): Promise<Serving> {
  const res = await kubeFromKubeconfig(sb.kubeconfigYaml()).fetch(`${sb.url}/sandbox/v1/overview`);
  const body = (await res.json()) as {
    services: Array<{
      namespace: string;
      name: string;
      selector: Record<string, string>;
      versions: Array<{ version: string; trafficPct: number }>;
    }>;
  };
  const svc = body.services.find((s) => s.namespace === ref.namespace && s.name === ref.service);
  if (!svc) throw new Error(`overview has no ${ref.namespace}/${ref.service}`);
  const byVersion: Record<string, number> = {};
  // Versions whose pods exist but get no traffic (not ready) are left out: this is about serving.
  for (const v of svc.versions.filter((x) => x.trafficPct > 0))
    byVersion[v.version] = Math.round(((byVersion[v.version] ?? 0) + v.trafficPct) * 10) / 10;
  return { byVersion, selector: svc.selector };
}
