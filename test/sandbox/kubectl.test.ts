// The real kubectl against the sandbox: get, set image, rollout status / undo / pause / resume,
// and patch in all three types behave as on a real cluster.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rolledOut, startFixture, waitFor, type Fixture } from './helpers.js';

const KUBECTL = '/usr/bin/kubectl';
const hasKubectl = existsSync(KUBECTL);
if (!hasKubectl) console.warn(`skipping the kubectl suite: ${KUBECTL} is not installed on this machine`);

let f: Fixture;
let dir: string;
let kubeconfig: string;

function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(KUBECTL, ['--kubeconfig', kubeconfig, '-n', 'production', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
const ok = async (...args: string[]) => {
  const r = await kubectl(...args);
  expect(r.code, `kubectl ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
};
const jsonpath = (resource: string, expr: string) => ok('get', resource, '-o', `jsonpath=${expr}`);

describe.skipIf(!hasKubectl)('kubectl', () => {
  beforeAll(async () => {
    f = await startFixture({ demo: true });
    dir = mkdtempSync(path.join(tmpdir(), 'shipbot-kubectl-'));
    kubeconfig = path.join(dir, 'kubeconfig');
    f.sandbox.writeKubeconfig(kubeconfig);
    await waitFor('demo rolled out', async () => (await f.apps.listDeploymentForAllNamespaces()).items.every(rolledOut));
  });
  afterAll(async () => {
    await f?.sandbox.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies an ordinary workload (app label only) with plain `kubectl apply`, no --validate=false, as on a real cluster', async () => {
    const file = path.join(dir, 'shop.yaml');
    const manifest = (replicas: number) =>
      [
        'apiVersion: apps/v1',
        'kind: Deployment',
        'metadata: { name: shop, labels: { app: shop } }',
        'spec:',
        `  replicas: ${replicas}`,
        '  selector: { matchLabels: { app: shop } }',
        '  template:',
        '    metadata: { labels: { app: shop } }',
        '    spec: { containers: [{ name: shop, image: "registry.example.com/shop:v1.0.0" }] }',
        '---',
        'apiVersion: v1',
        'kind: Service',
        'metadata: { name: shop, labels: { app: shop } }',
        'spec: { selector: { app: shop }, ports: [{ port: 80, targetPort: 8080 }] }',
        '---',
        'apiVersion: autoscaling/v2',
        'kind: HorizontalPodAutoscaler',
        'metadata: { name: shop }',
        'spec: { scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: shop }, minReplicas: 2, maxReplicas: 6 }',
        '',
      ].join('\n');
    writeFileSync(file, manifest(3));
    expect(await ok('apply', '-f', file)).toMatch(
      /deployment.apps\/shop created[\s\S]*service\/shop created[\s\S]*horizontalpodautoscaler.autoscaling\/shop created/,
    );
    expect(await ok('apply', '-f', file)).toMatch(/deployment.apps\/shop unchanged/);
    writeFileSync(file, manifest(2));
    expect(await ok('apply', '-f', file)).toMatch(/deployment.apps\/shop configured/);
    await ok('rollout', 'status', 'deployment/shop', '--timeout=30s');
    expect(await jsonpath('deployment/shop', '{.spec.replicas}')).toBe('2');
    expect(await ok('get', 'hpa', 'shop', '-o', 'name')).toBe('horizontalpodautoscaler.autoscaling/shop\n');
  });

  it('applies, gets and patches an HTTPRoute and a VirtualService as a cluster with their CRDs installed', async () => {
    const file = path.join(dir, 'routes.yaml');
    writeFileSync(
      file,
      [
        'apiVersion: gateway.networking.k8s.io/v1',
        'kind: HTTPRoute',
        'metadata: { name: shop }',
        'spec:',
        '  parentRefs: [{ name: shop-gateway }]',
        '  rules: [{ backendRefs: [{ name: checkout, port: 80, weight: 95 }, { name: checkout-next, port: 80, weight: 5 }] }]',
        '---',
        'apiVersion: networking.istio.io/v1',
        'kind: VirtualService',
        'metadata: { name: shop }',
        'spec: { hosts: [shop], http: [{ name: primary, route: [{ destination: { host: checkout }, weight: 100 }] }] }',
        '',
      ].join('\n'),
    );
    expect(await ok('apply', '-f', file)).toMatch(
      /httproute.gateway.networking.k8s.io\/shop created[\s\S]*virtualservice.networking.istio.io\/shop created/,
    );
    // Its list fields come back with CRD defaults, so kubectl sends a patch ("configured"), as on a
    // real cluster; the server re-defaults it to the same object, and nothing changes.
    await ok('apply', '-f', file);
    expect(await jsonpath('httproute/shop', '{.metadata.generation}')).toBe('1');
    const yaml = await ok('get', 'httproute', 'shop', '-o', 'yaml');
    expect(yaml).toMatch(/name: checkout\n\s+port: 80\n\s+weight: 95/);
    expect(yaml).toMatch(/name: checkout-next\n\s+port: 80\n\s+weight: 5/);
    // The gateway's status: Accepted per parentRef, and a backend that does not exist named.
    expect(
      await jsonpath(
        'httproute/shop',
        '{.status.parents[0].conditions[?(@.type=="Accepted")].status} {.status.parents[0].conditions[?(@.type=="ResolvedRefs")].reason}',
      ),
    ).toBe('True BackendNotFound');
    expect(await ok('get', 'httproutes')).toMatch(/NAME\s+HOSTNAMES\s+AGE\n(.+\n)*shop\s+\d+[smhd]/);
    expect(await jsonpath('vs/shop', '{.spec.http[0].route[0].weight}')).toBe('100');
    await ok('patch', 'httproute', 'shop', '--type=json', '-p', '[{"op":"replace","path":"/spec/rules/0/backendRefs/1/weight","value":0}]');
    expect(
      await jsonpath(
        'httproute/shop',
        '{.spec.rules[0].backendRefs[*].weight} {.metadata.generation} {.status.parents[0].conditions[0].observedGeneration}',
      ),
    ).toBe('95 0 2 2');
    // Custom resources take no strategic merge patch, kubectl's default.
    const strategic = await kubectl('patch', 'httproute', 'shop', '-p', '{"spec":{"hostnames":["a.example.com"]}}');
    expect(strategic.code).not.toBe(0);
    expect(strategic.stderr).toMatch(/unknown format|UnsupportedMediaType|415/i);
    await ok('delete', '-f', file);
  });

  it('gets deployments, pods and services', async () => {
    const deploys = await ok('get', 'deploy', '-A');
    for (const name of ['checkout', 'payments', 'search']) expect(deploys).toContain(name);
    expect(deploys).toContain('staging');
    // Server-side printing: the columns of a real cluster, ages on the sandbox clock.
    expect(deploys).toMatch(/NAMESPACE\s+NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
    expect(deploys).toMatch(/production\s+checkout\s+20\/20\s+20\s+20\s+\d+[smhd]/);
    expect(await ok('get', 'pods', '-l', 'app=payments')).toMatch(/payments-\w+-\w+\s+1\/1\s+Running\s+0\s+\d+[smhd]/);
    const pods = await ok('get', 'pods', '-l', 'app=checkout', '-o', 'name');
    expect(pods.trim().split('\n')).toHaveLength(20);
    expect(await jsonpath('svc/checkout', '{.spec.selector.app}')).toBe('checkout');
    const missing = await kubectl('get', 'deploy', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('deployments.apps "nope" not found');
  });

  it('sets an image and waits for the rollout with rollout status', async () => {
    await ok('set', 'image', 'deployment/checkout', 'app=registry.example.com/shop/checkout:v1.2.3');
    const out = await ok('rollout', 'status', 'deployment/checkout', '--timeout=60s');
    expect(out).toContain('deployment "checkout" successfully rolled out');
    expect(
      await jsonpath('deploy/checkout', '{.metadata.annotations.deployment\\.kubernetes\\.io/revision} {.status.updatedReplicas}'),
    ).toBe('2 20');
  });

  it('rolls back with rollout undo, re-using the old ReplicaSet', async () => {
    const rsBefore = (await ok('get', 'rs', '-l', 'app=checkout', '-o', 'name')).trim().split('\n').sort();
    const history = await ok('rollout', 'history', 'deployment/checkout');
    expect(history).toMatch(/1\s+<none>/);
    expect(history).toMatch(/2\s+<none>/);
    expect(await ok('rollout', 'undo', 'deployment/checkout')).toContain('rolled back');
    await ok('rollout', 'status', 'deployment/checkout', '--timeout=60s');
    expect(
      await jsonpath(
        'deploy/checkout',
        '{.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}',
      ),
    ).toBe('registry.example.com/shop/checkout:v1.2.2 3');
    const rsAfter = (await ok('get', 'rs', '-l', 'app=checkout', '-o', 'name')).trim().split('\n').sort();
    expect(rsAfter).toEqual(rsBefore);
  });

  it('pauses and resumes a rollout', async () => {
    expect(await ok('rollout', 'pause', 'deployment/payments')).toContain('paused');
    await ok('set', 'image', 'deployment/payments', 'app=registry.example.com/shop/payments:v1.2.3');
    const ticks = f.sandbox.loopStats().ticks;
    await waitFor('a few ticks', () => f.sandbox.loopStats().ticks > ticks + 5);
    expect(await jsonpath('deploy/payments', '{.spec.paused} {.status.conditions[?(@.type=="Progressing")].reason}')).toBe(
      'true DeploymentPaused',
    );
    expect((await ok('get', 'rs', '-l', 'app=payments', '-o', 'name')).trim().split('\n')).toHaveLength(1);
    const undoPaused = await kubectl('rollout', 'undo', 'deployment/payments');
    expect(undoPaused.code).not.toBe(0);
    expect(await ok('rollout', 'resume', 'deployment/payments')).toContain('resumed');
    await ok('rollout', 'status', 'deployment/payments', '--timeout=60s');
    expect(
      await jsonpath('deploy/payments', '{.status.updatedReplicas} {.metadata.annotations.deployment\\.kubernetes\\.io/revision}'),
    ).toBe('20 2');
  });

  it('reports a progress deadline failure from rollout status', async () => {
    await ok('patch', 'deployment', 'search', '--type=merge', '-p', '{"spec":{"progressDeadlineSeconds":30}}');
    await ok('set', 'image', 'deployment/search', 'app=registry.example.com/shop/search:v1.2.3-missing');
    const r = await kubectl('rollout', 'status', 'deployment/search', '--timeout=60s');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('exceeded its progress deadline');
  });

  it('patches with all three patch types', async () => {
    await ok('patch', 'deployment', 'checkout', '--type=json', '-p', '[{"op":"add","path":"/metadata/labels/patched","value":"json"}]');
    await ok('patch', 'deployment', 'checkout', '--type=merge', '-p', '{"metadata":{"annotations":{"patched":"merge"}}}');
    await ok(
      'patch',
      'deployment',
      'checkout',
      '--type=strategic',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"MODE","value":"strategic"}]}]}}}}',
    );
    expect(
      await jsonpath(
        'deploy/checkout',
        '{.metadata.labels.patched} {.metadata.annotations.patched} {.spec.template.spec.containers[0].env[0].value} {.spec.template.spec.containers[0].image}',
      ),
    ).toBe('json merge strategic registry.example.com/shop/checkout:v1.2.2');
    const bad = await kubectl('patch', 'deployment', 'checkout', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":99}]');
    expect(bad.code).not.toBe(0);
  });

  it('changes nothing with --dry-run=server', async () => {
    const before = await jsonpath('deploy/checkout', '{.metadata.uid} {.metadata.generation} {.spec.replicas}');
    expect(await ok('scale', 'deploy/checkout', '--replicas=3', '--dry-run=server')).toContain('server dry run');
    expect(await ok('delete', 'deploy/checkout', '--dry-run=server')).toContain('server dry run');
    expect(await jsonpath('deploy/checkout', '{.metadata.uid} {.metadata.generation} {.spec.replicas}')).toBe(before);
  });

  it('applies an Argo Rollout, lists it as the CRD prints it, and refuses one the schema rejects', async () => {
    const file = path.join(dir, 'rollout.yaml');
    const manifest = (weight: string) =>
      [
        'apiVersion: argoproj.io/v1alpha1',
        'kind: Rollout',
        'metadata: { name: shop-ro, labels: { app: shop-ro } }',
        'spec:',
        '  replicas: 4',
        '  selector: { matchLabels: { app: shop-ro } }',
        '  template:',
        '    metadata: { labels: { app: shop-ro } }',
        '    spec: { containers: [{ name: app, image: "registry.example.com/shop:v1.0.0" }] }',
        `  strategy: { canary: { steps: [{ setWeight: ${weight} }, { pause: {} }] } }`,
        '',
      ].join('\n');
    writeFileSync(file, manifest('25'));
    await ok('apply', '-f', file);
    await waitFor('the Rollout Healthy', async () => (await jsonpath('rollout/shop-ro', '{.status.phase}')) === 'Healthy');
    const table = await ok('get', 'rollouts');
    expect(table.split('\n')[0]).toMatch(/^NAME\s+DESIRED\s+CURRENT\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    expect(table).toMatch(/shop-ro\s+4\s+4\s+4\s+4\s+/);
    writeFileSync(file, manifest('"a lot"'));
    const bad = await kubectl('apply', '-f', file);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/setWeight/);
  });
});
