// Releases of a service whose production workload is an Argo Rollouts Rollout, through the
// runner on the sandbox: the run's rows are the Rollout's steps, it waits at the open pause for
// Accept, Shipbot's judge aborts a regressing canary through the controller and undoes it, and a
// blue-green Rollout without auto-promotion waits for Accept before its cutover.
import { afterEach, describe, expect, it } from 'vitest';
import { ROLLOUTS, type RolloutObject } from '../../src/cluster/argo-rules.js';
import { kubeFromKubeconfig } from '../../src/cluster/index.js';
import { outcomeOf, pendingDecision, reportPathOf, waitsAtPause } from '../../src/domain/run.js';
import { readFileSync } from 'node:fs';
import { rolloutConfig } from '../helpers/rollouts.js';
import { startPromDouble } from '../metrics/prometheus-double.js';
import { IC, REQUESTER, servingImages, startWorld, started, until, type World } from './world.js';

let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const IMAGE = (v: string) => `registry.example.com/shop/checkout:${v}`;

async function rollout(world: World): Promise<RolloutObject> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  return (await kube.custom.getNamespacedCustomObject({ ...ROLLOUTS, namespace: 'production', name: 'checkout' })) as RolloutObject;
}

describe('a canary Rollout', () => {
  it("shows the Rollout's steps, waits at its open pause for Accept, and succeeds", async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary'));
    const asked = await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision' || r.phase.status === 'failed');
    expect(asked.phase.status, outcomeOf(asked)).toBe('awaiting-decision');
    expect(waitsAtPause(pendingDecision(asked))).toBe(true);
    const rows = asked.steps.filter((s) => s.key.startsWith('stage:')).map((s) => [s.title, s.status]);
    expect(rows).toEqual([
      ['canary 20%', 'done'],
      ['pause 60s', 'done'],
      ['canary 50%', 'done'],
      ['waiting for Accept', 'done'],
      ['canary 100%', 'pending'],
      ['promote to 100%', 'pending'],
    ]);
    expect(asked.steps.find((s) => s.title === 'waiting for Accept')?.detail).toMatch(
      /Rollout Paused: CanaryPauseStep; waiting for Accept/,
    );
    expect((await rollout(w)).status).toMatchObject({ currentStepIndex: 3, phase: 'Paused' });

    // The requester may promote their own pause (no second person: it is not an accepted regression).
    expect(await w.runner.command(run.id, 'accept', REQUESTER)).toMatchObject({ ok: true, acted: true });
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    expect((await w.runner.record(run.id))!.data.accepted).toBeUndefined();
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.3.0')]);
    expect((await rollout(w)).status).toMatchObject({ phase: 'Healthy', currentStepIndex: 5 });
    const report = readFileSync(reportPathOf(done)!, 'utf8');
    expect(report).toContain(
      "canary, through Argo Rollout checkout's own steps (canary 20% → pause 60s → canary 50% → waiting for Accept → canary 100% → promote to 100%)",
    );
  });

  it("an -errors build is aborted by Shipbot's judge and undone: the stable ReplicaSet serves 100%", async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    const before = (await rollout(w)).status!.stableRS;
    const run = started(await w.deploy('deploy checkout v1.3.0-errors canary'));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(outcomeOf(done)).toMatch(/error rate/);
    expect(done.steps.find((s) => s.title === 'canary 20%')).toMatchObject({ status: 'failed' });
    expect(done.steps.find((s) => s.key === 'verify-rollback')).toMatchObject({ status: 'done' });
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.2.2')]);
    const ro = await rollout(w);
    expect(ro.status).toMatchObject({ phase: 'Healthy', stableRS: before, currentPodHash: before, abort: false });
    expect(ro.spec.template?.spec?.containers?.[0]?.image).toBe(IMAGE('v1.2.2'));
  });

  it('a Rollback pressed at the open pause aborts it and acts once', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary'));
    await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision');
    const [a, b] = await Promise.all([w.runner.command(run.id, 'rollback', REQUESTER), w.runner.command(run.id, 'rollback', IC)]);
    expect([a.ok && a.acted, b.ok && b.acted].filter(Boolean)).toHaveLength(1);
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.2.2')]);
  });
});

/** Turns the demo's canary Rollout into a blue-green one without auto-promotion, with its preview Service. */
async function blueGreen(world: World): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  await kube.core.createNamespacedService({
    namespace: 'production',
    body: {
      metadata: { name: 'checkout-preview', labels: { app: 'checkout' } },
      spec: { selector: { app: 'checkout' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  });
  const ro = await rollout(world);
  ro.spec.strategy = { blueGreen: { activeService: 'checkout', previewService: 'checkout-preview', autoPromotionEnabled: false } };
  await kube.custom.replaceNamespacedCustomObject({ ...ROLLOUTS, namespace: 'production', name: 'checkout', body: ro });
  const active = async () => (await kube.core.readNamespacedService({ name: 'checkout', namespace: 'production' })).spec?.selector;
  for (let i = 0; i < 200 && !(await active())?.['rollouts-pod-template-hash']; i++) await new Promise((r) => setTimeout(r, 20));
}

/** Every selector hash the active Service had while `during` ran. */
async function activeHashesDuring(world: World, during: () => Promise<void>): Promise<Set<string | undefined>> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  const seen = new Set<string | undefined>();
  let on = true;
  const watch = (async () => {
    while (on) {
      const svc = await kube.core.readNamespacedService({ name: 'checkout', namespace: 'production' });
      seen.add(svc.spec?.selector?.['rollouts-pod-template-hash']);
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  try {
    await during();
  } finally {
    on = false;
    await watch;
  }
  return seen;
}

describe('a blue-green Rollout with autoPromotionEnabled: false', () => {
  it('waits for Accept with the new version in preview, then promotes: the active Service moves once', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    await blueGreen(w);
    const stable = (await rollout(w)).status!.stableRS;
    const run = started(await w.deploy('deploy checkout v1.3.0 blue-green'));
    const asked = await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision' || r.phase.status === 'failed');
    expect(asked.phase.status, outcomeOf(asked)).toBe('awaiting-decision');
    expect(asked.steps.filter((s) => s.key.startsWith('stage:')).map((s) => s.title)).toEqual(['preview', 'waiting for Accept', 'cutover']);
    let ro = await rollout(w);
    expect(ro.status).toMatchObject({ phase: 'Paused', message: 'BlueGreenPause', blueGreen: { activeSelector: stable } });
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.2.2')]);

    expect(await w.runner.command(run.id, 'accept', REQUESTER)).toMatchObject({ ok: true });
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    ro = await rollout(w);
    expect(ro.status).toMatchObject({ phase: 'Healthy', blueGreen: { activeSelector: ro.status!.currentPodHash } });
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.3.0')]);
  });

  it('a Rollback during preview aborts it and the active Service never moves', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    await blueGreen(w);
    const stable = (await rollout(w)).status!.stableRS;
    const world = w;
    const seen = await activeHashesDuring(world, async () => {
      const run = started(await world.deploy('deploy checkout v1.3.0 blue-green'));
      await until(world.runner, run.id, (r) => r.phase.status === 'awaiting-decision');
      expect(await world.runner.command(run.id, 'rollback', REQUESTER)).toMatchObject({ ok: true, acted: true });
      const done = (await world.runner.settled(run.id))!;
      expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    });
    expect([...seen]).toEqual([stable]);
    const ro = await rollout(w);
    expect(ro.status).toMatchObject({ phase: 'Healthy', stableRS: stable, currentPodHash: stable });
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.2.2')]);
  });
});

/** Gives the demo Rollout the steps [setWeight 20, analysis strict, setWeight 100] and an AnalysisTemplate "strict" (web provider unless given). */
async function withAnalysis(
  world: World,
  conditions: { successCondition: string; failureCondition?: string },
  provider: Record<string, unknown> = {
    web: {
      url: 'https://sandbox/sandbox/v1/metrics?namespace=production&service=checkout&version={{args.version}}&windowSec=30',
      jsonPath: '{$.errorRate}',
    },
  },
): Promise<void> {
  const kube = kubeFromKubeconfig(world.sandbox.kubeconfigYaml());
  await kube.custom.createNamespacedCustomObject({
    group: 'argoproj.io',
    version: 'v1alpha1',
    plural: 'analysistemplates',
    namespace: 'production',
    body: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: { name: 'strict' },
      spec: {
        args: [{ name: 'version' }],
        metrics: [
          {
            name: 'error-rate',
            count: 1,
            ...conditions,
            provider,
          },
        ],
      },
    },
  });
  const ro = await rollout(world);
  ro.spec.strategy = {
    canary: {
      steps: [
        { setWeight: 20 },
        { analysis: { templates: [{ templateName: 'strict' }], args: [{ name: 'version', value: 'v1.3.0' }] } } as never,
        { setWeight: 100 },
      ],
    },
  };
  await kube.custom.replaceNamespacedCustomObject({ ...ROLLOUTS, namespace: 'production', name: 'checkout', body: ro });
}

describe("Argo's own analysis steps count", () => {
  it('a failed AnalysisRun is a failed step, shown with its metric and value; the release is rolled back', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    await withAnalysis(w, { successCondition: 'result < 0' });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary'));
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
    // The judge was still watching weight 20 when the controller aborted: that row fails, naming the analysis.
    const failed = done.steps.filter((s) => s.key.startsWith('stage:') && s.status === 'failed');
    expect(failed.map((s) => s.detail)).toEqual([
      expect.stringMatching(
        /Argo analysis error-rate = [\d.e-]+: Failed \(Metric "error-rate" assessed Failed due to failed \(1\) > failureLimit \(0\)\)/,
      ),
    ]);
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.2.2')]);
  });

  it('a Prometheus provider is asked its instant query; the value it answers decides (here it fails the condition)', async () => {
    const prom = await startPromDouble();
    try {
      w = await startWorld({ config: rolloutConfig(), speed: 100 });
      await withAnalysis(
        w,
        { successCondition: 'result < 0.001' },
        { prometheus: { address: prom.url, query: 'sum(rate(http_requests_total{service="checkout",track="stable",code=~"5.."}[1m]))' } },
      );
      const run = started(await w.deploy('deploy checkout v1.3.0 canary'));
      const done = (await w.runner.settled(run.id))!;
      expect(done.phase.status, outcomeOf(done)).toBe('rolled-back');
      const failed = done.steps.filter((s) => s.key.startsWith('stage:') && s.status === 'failed');
      expect(failed.map((s) => s.detail)).toEqual([expect.stringMatching(/Argo analysis error-rate = 0\.002: Failed/)]);
      expect(prom.queries.some((q) => q.path === '/api/v1/query' && q.params.get('query')?.includes('track="stable"'))).toBe(true);
    } finally {
      await prom.close();
    }
  });

  it('an inconclusive AnalysisRun asks a person; Accept is the plugin promote for an inconclusive analysis, and the release goes on', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    await withAnalysis(w, { successCondition: 'result < 0', failureCondition: 'result > 1' });
    const run = started(await w.deploy('deploy checkout v1.3.0 canary'));
    const asked = await until(w.runner, run.id, (r) => r.phase.status === 'awaiting-decision' || r.phase.status === 'rolled-back');
    expect(asked.phase.status, outcomeOf(asked)).toBe('awaiting-decision');
    expect(pendingDecision(asked)?.explanation).toMatch(/inconclusive: error-rate = .*Inconclusive/);
    const mark = w.sandbox.auditLog().length;
    expect(await w.runner.command(run.id, 'accept', REQUESTER)).toMatchObject({ ok: true, acted: true });
    const done = (await w.runner.settled(run.id))!;
    expect(done.phase.status, outcomeOf(done)).toBe('succeeded');
    const promote = w.sandbox
      .auditLog()
      .slice(mark)
      .filter((e) => e.requestURI.includes('/rollouts/checkout/status'))
      .map((e) => JSON.parse(e.body));
    expect(promote).toEqual([{ status: { pauseConditions: null, controllerPause: false, currentStepIndex: 2 } }]);
    expect(await servingImages(w, 'checkout')).toEqual([IMAGE('v1.3.0')]);
  });
});

describe("the plan follows the Rollout's own strategy", () => {
  it('a request without a strategy takes the Rollout’s; one that asks for another is refused before anything starts', async () => {
    w = await startWorld({ config: rolloutConfig(), speed: 100 });
    const refused = await w.deploy('deploy checkout v1.3.0 blue-green');
    expect(refused).toMatchObject({ ok: false, reason: 'invalid', message: expect.stringContaining('with a canary strategy') });
    expect(await w.runner.getLock('checkout', 'production')).toBeUndefined();
    const { request, plan } = w.plan('deploy checkout v1.3.0', { strategy: 'rolling' });
    expect(request.strategy).toBeUndefined();
    const run = started(await w.runner.start({ request, plan, requester: REQUESTER, origin: { kind: 'terminal' } }));
    expect(run.strategy).toBe('canary');
    expect(run.plan.rationale).toBe("the Rollout's own strategy: its steps are the Rollout's");
    const confirmed = await until(w.runner, run.id, (r) => r.steps[0]?.status === 'done');
    expect(confirmed.steps[0]?.detail).toMatch(/^canary through Rollout checkout's own steps, medium risk/);
    await w.runner.command(run.id, 'cancel', REQUESTER);
    await w.runner.settled(run.id);
  });
});
