// Several clusters: staging in one, production in another, each a sandbox behind its own TLS
// and token door, reached through one merged KUBECONFIG (two files, colon-separated) by the
// contexts the config names. Every call for an environment goes to its cluster.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../src/clock.js';
import { contextsOf, type ShipbotConfig } from '../../src/config.js';
import { kubeconfigClusters, kubeFromEnv, type TrackRef } from '../../src/cluster/index.js';
import { createLogger } from '../../src/log.js';
import type { MetricSource } from '../../src/metrics/types.js';
import { createRunner, type Runner } from '../../src/runner/index.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { metricsOf } from '../helpers/sandbox-access.js';
import { REQUESTER, SHIPPED, started } from './world.js';

const config: ShipbotConfig = {
  ...SHIPPED,
  services: SHIPPED.services.map((s) => ({
    ...s,
    environments: {
      staging: { ...s.environments.staging!, context: 'staging-cluster' },
      production: { ...s.environments.production, context: 'prod-cluster' },
    },
  })),
};

let stagingCluster: Sandbox;
let prodCluster: Sandbox;
let dir: string;
let kubeconfig: string;
let store: Store;
let runner: Runner;
const clock = new ScaledClock(100);

/** Each environment's metrics come from its own cluster (as a Prometheus per cluster would give them). */
function perClusterMetrics(): MetricSource {
  const staging = metricsOf(stagingCluster);
  const prod = metricsOf(prodCluster);
  return { name: 'sandbox', sample: (t: TrackRef, w: number) => (t.namespace === 'staging' ? staging : prod).sample(t, w) };
}

async function imageIn(sb: Sandbox, namespace: string, name: string): Promise<string | undefined> {
  const kube = kubeFromEnv({ KUBECONFIG: kubeconfig }, sb === stagingCluster ? 'staging-cluster' : 'prod-cluster');
  const d = await kube.apps.readNamespacedDeployment({ name, namespace });
  return d.spec?.template.spec?.containers[0]?.image;
}

beforeAll(async () => {
  [stagingCluster, prodCluster] = await Promise.all([
    startSandbox({ clock, demo: true, warm: true, config }),
    startSandbox({ clock, demo: true, warm: true, config }),
  ]);
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipbot-clusters-'));
  const a = path.join(dir, 'staging.kubeconfig');
  const b = path.join(dir, 'prod.kubeconfig');
  writeFileSync(a, stagingCluster.kubeconfigYaml('staging-cluster'));
  writeFileSync(b, prodCluster.kubeconfigYaml('prod-cluster'));
  kubeconfig = `${a}${path.delimiter}${b}`;
  store = openStore(path.join(dir, 'shipbot.db'));
  const clusters = kubeconfigClusters({ KUBECONFIG: kubeconfig }, contextsOf(config));
  runner = createRunner({
    store,
    config,
    clock,
    clusters,
    metrics: perClusterMetrics(),
    logger: createLogger('silent'),
    reportsDir: path.join(dir, 'reports'),
    pollMs: 1000,
  });
});

afterAll(async () => {
  await runner?.close();
  await store?.close();
  await Promise.all([stagingCluster?.close(), prodCluster?.close()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('staging and production in different clusters', () => {
  it('a colon-separated KUBECONFIG is merged: both contexts resolve, each to its own API server', () => {
    expect(kubeFromEnv({ KUBECONFIG: kubeconfig }, 'staging-cluster').server).toBe(stagingCluster.url);
    expect(kubeFromEnv({ KUBECONFIG: kubeconfig }, 'prod-cluster').server).toBe(prodCluster.url);
    expect(() => kubeFromEnv({ KUBECONFIG: kubeconfig }, 'nope')).toThrow(
      "kubeconfig has no context 'nope' (it has: staging-cluster, prod-cluster)",
    );
  });

  it('a blue-green deploy of web goes through staging in one cluster and production in the other', async () => {
    const { parseCommand } = await import('../../src/domain/parse.js');
    const { buildPlan } = await import('../../src/domain/plan.js');
    const parsed = parseCommand('deploy web v1.3.0 blue-green', config);
    if (!parsed.ok || parsed.command.intent !== 'deploy') throw new Error('not a deploy');
    const plan = {
      ...buildPlan(parsed.command, config.services.find((s) => s.name === 'web')!, config),
      stageWindowSec: 30,
      monitoringIntervalSec: 5,
      observationSec: 30,
    };
    const run = started(await runner.start({ request: parsed.command, plan, requester: REQUESTER, origin: { kind: 'terminal' } }));
    const done = (await runner.settled(run.id))!;
    const steps = done.steps.map((s) => `${s.status} ${s.title}: ${s.detail}`).join('\n');
    expect(done.phase.status, steps).toBe('succeeded');
    // Preflight checked the staging cluster as well as production's.
    const checks = (await runner.record(run.id))!.data.preflight!.map((c) => c.name);
    expect(checks).toContain('cluster reachable');
    expect(checks).toContain('staging: cluster reachable');
    // Each environment changed in its own cluster, and only there.
    expect(await imageIn(stagingCluster, 'staging', 'web')).toBe('registry.example.com/shop/web:v1.3.0');
    // Production runs the exact build staging's pods pulled, by digest.
    const exact = (await runner.record(run.id))!.data.artifact!;
    expect(exact.environment).toBe('staging');
    expect(await imageIn(prodCluster, 'production', 'web-green')).toBe(exact.image);
    expect(await imageIn(prodCluster, 'staging', 'web')).toBe('registry.example.com/shop/web:v1.2.2');
    expect(await imageIn(stagingCluster, 'production', 'web')).toBe('registry.example.com/shop/web:v1.2.2');
    expect(await imageIn(stagingCluster, 'production', 'web-green').catch(() => 'absent')).toBe('absent');
  });
});
