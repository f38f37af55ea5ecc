// Capacity of the sandbox: 50 Deployments × 10 pods with their traffic on one clock. Does the
// simulation keep up with its clock (startup, steady state, a rollout of everything at once)?
import { ScaledClock } from '../src/clock.js';
import { demoDeployment } from '../src/sandbox/demo.js';
import { startSandbox } from '../src/sandbox/index.js';
import { resourceByKind } from '../src/sandbox/resources.js';

const DEPLOYMENTS = resourceByKind('Deployment');
const SERVICES = resourceByKind('Service');
const NAMESPACES = resourceByKind('Namespace');
const PODS = resourceByKind('Pod');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchSandbox(): Promise<Array<{ name: string; value: number; unit: string; note?: string }>> {
  const N = 50;
  const PODS_EACH = 10;
  const SPEED = 10;
  const clock = new ScaledClock(SPEED);
  const sb = await startSandbox({ clock, podStartMs: 3000 });
  try {
    sb.api.create(NAMESPACES, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } });
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const name = `svc-${i}`;
      sb.api.create(
        DEPLOYMENTS,
        'bench',
        demoDeployment('bench', name, name, 'app', `registry.example.com/bench/${name}:v1.0.0`, PODS_EACH),
      );
      sb.api.create(SERVICES, 'bench', {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'bench' },
        spec: { selector: { app: name }, ports: [{ port: 80 }] },
      });
    }
    const allReady = () =>
      sb.store
        .list(DEPLOYMENTS, 'bench')
        .every(
          (d) =>
            d.status?.observedGeneration === d.metadata.generation &&
            d.status?.availableReplicas === PODS_EACH &&
            d.status?.updatedReplicas === PODS_EACH &&
            d.status?.replicas === PODS_EACH,
        );
    while (!allReady()) await sleep(10);
    const startupMs = performance.now() - t0;

    // Steady state: 5 real seconds (50 s of sandbox time) of traffic for 500 pods.
    const before = sb.loopStats();
    const wallStart = performance.now();
    await sleep(5000);
    const after = sb.loopStats();
    const wall = performance.now() - wallStart;
    const ticks = after.ticks - before.ticks;
    const busy = after.busyMs - before.busyMs;
    const lagMs = clock.now() - after.lastTickAt;
    const sample = sb.traffic.sample({ namespace: 'bench', service: 'svc-0' }, 30);

    // A rollout of all 50 Deployments at once.
    const r0 = performance.now();
    for (let i = 0; i < N; i++) {
      sb.api.patch(DEPLOYMENTS, 'bench', `svc-${i}`, 'application/strategic-merge-patch+json', {
        spec: { template: { spec: { containers: [{ name: 'app', image: `registry.example.com/bench/svc-${i}:v1.0.1` }] } } },
      });
    }
    while (!allReady()) await sleep(10);
    const rolloutMs = performance.now() - r0;
    // Ideal: each of the ~4 surge steps waits one pod start (3 s of sandbox time).
    const idealRolloutMs = (4 * 3000) / SPEED;

    return [
      { name: 'pods simulated', value: sb.store.count(PODS), unit: 'pods', note: `${N} Deployments × ${PODS_EACH}, clock ${SPEED}x` },
      { name: 'startup until all Ready', value: startupMs, unit: 'ms', note: `ideal ${(3000 / SPEED).toFixed(0)} ms (one pod start)` },
      { name: 'tick cost (mean)', value: ticks ? busy / ticks : 0, unit: 'ms' },
      { name: 'tick cost (max, whole run)', value: after.maxTickMs, unit: 'ms' },
      { name: 'ticks per second', value: (ticks * 1000) / wall, unit: 'ticks/s', note: 'target 20 (50 ms ticks)' },
      { name: 'loop CPU share', value: (100 * busy) / wall, unit: '%', note: 'under 100% = keeps up with its clock' },
      { name: 'simulation lag behind clock', value: lagMs, unit: 'sandbox ms', note: 'at the end of steady state' },
      { name: 'traffic served vs configured', value: sample.throughputRps / 200, unit: 'ratio', note: '1.0 = all 200 req/s simulated' },
      { name: 'rollout of all 50 Deployments', value: rolloutMs, unit: 'ms', note: `ideal ≈ ${idealRolloutMs.toFixed(0)} ms` },
    ];
  } finally {
    await sb.close();
  }
}
